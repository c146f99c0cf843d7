using LinuxEvent.Async;
using LinuxEvent.Datagrams;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed partial class ProactorIoDriver
{
    /// <summary>
    /// sendmsg/recvmsg: submits IORING_OP_SENDMSG/RECVMSG with the pooled awaitable's own pinned msghdr; the operation
    /// settles through <see cref="OnAsyncOperationSettled"/>, which hands the result to <see cref="Loop.FinishMessageIo"/>.
    /// The buffer is pinned by <see cref="Submit"/> until the operation's CQE, the msghdr, iovec, sockaddr and control
    /// buffer live in the awaitable's pinned block until then too: the kernel writes the sender, the control length and
    /// the flags back into them at completion.
    /// </summary>
    public override IoStart StartMessage(IoFd state, AsyncKind kind, in MessageRequest request, CancellationToken token)
    {
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
        var a = Loop.ParkMessageIo(state, kind, request, token);
        if (!a.IsPending) return IoStart.Pending(a);            // the request could not be encoded: settled with the error
        var opKind = IoNames.Of(kind);
        var op = PrepareAsyncOperation(a, opKind, state.Fd, -1);
        // One storage for both directions (an operation reads or writes, never both): set the one this kind uses.
        if (opKind == OperationKind.SendMessage) op.ConstBuffer = request.ConstBuffer;
        else op.Buffer = request.Buffer;
        op.Length = opKind == OperationKind.SendMessage ? request.ConstBuffer.Length : request.Buffer.Length;
        op.Message = a.Message;
        op.LinkTimeoutNs = a.TimeoutNs;
        op.FixedFile = FixedSlotOf(state);
        try
        {
            Submit(op);
        }
        catch (Exception ex)
        {
            a.Fail(ex);         // a submission failure completes the awaitable with the error
        }
        a.Armed();
        return IoStart.Pending(a);
    }
}
