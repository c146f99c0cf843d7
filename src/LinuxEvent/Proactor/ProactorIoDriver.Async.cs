using System.Net;
using LinuxEvent.Async;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed partial class ProactorIoDriver
{
    // Each pooled AsyncOp owns one Operation that is re-targeted and resubmitted on every use, so an awaited
    // operation costs no allocation in steady state.
    private static readonly Action<Operation> s_asyncCompleted = static o => o.Loop.ProactorDriver.OnAsyncOperationSettled(o);

    public override IoStart Start(IoFd state, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote,
        CancellationToken token)
    {
        if (kind is AsyncKind.WaitReadable or AsyncKind.WaitWritable)
            return IoStart.Failed(new NotSupportedException("Readiness waits are a reactor API (ReactorLoop.WaitReadableAsync/WaitWritableAsync)."));
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
        var opKind = IoNames.Of(kind);
        var a = Loop.ParkIo(state, kind, buffer, constBuffer, remote, token);
        var op = PrepareAsyncOperation(a, opKind, state.Fd, -1);
        // One storage for both (an operation reads or writes, never both): set the one this kind uses.
        bool writes = opKind is OperationKind.Write or OperationKind.Send;
        if (writes) op.ConstBuffer = constBuffer;
        else op.Buffer = buffer;
        op.Length = writes ? constBuffer.Length : buffer.Length;
        op.LinkTimeoutNs = a.TimeoutNs;         // the call's deadline, linked to the SQE (Loop.Deadlines.cs)
        op.FixedFile = FixedSlotOf(state);      // a LoopFd's slot in the registered file table, or -1
        try
        {
            if (remote is not null)
            {
                op.SockAddr ??= GC.AllocateArray<byte>(SockAddr.MaxSize, pinned: true);
                op.SockAddrLength = SockAddr.Write(remote, op.SockAddr);
            }
            Submit(op);
        }
        catch (Exception ex)
        {
            a.Fail(ex);         // a submission failure completes the awaitable with the error
        }
        a.Armed();              // no-op if the submission failed and settled the use
        return IoStart.Pending(a);
    }

    private void OnAsyncOperationSettled(Operation op)
    {
        var a = (AsyncOp)op.Data!;
        if (op.State == OperationState.Failed && op.Error!.Errno == Errno.EINTR && RetryInterrupted(op, a)) return;
        op.ConstBuffer = default;                       // the buffer of either direction (one storage)
        switch (op.State)
        {
            case OperationState.Completed or OperationState.Failed when op.Kind is OperationKind.SendMessage or OperationKind.ReceiveMessage:
                Loop.FinishMessageIo(a, op.State == OperationState.Completed ? op.Result : -op.Error!.Errno);
                break;
            case OperationState.Completed:
                a.Complete(op.Result);
                break;
            case OperationState.Cancelled when a.OwnerDisposed:
                a.Fail(ThrowHelper.RegistrationDisposedDuringOperation(op.Fd));
                break;
            case OperationState.Cancelled when _disposing:
                // Cancelled by the loop's disposal, not by the caller's token: the same outcome as on the reactor.
                a.Fail(ThrowHelper.LoopDisposedDuringOperation(Loop));
                break;
            case OperationState.Cancelled:
                a.Cancelled();
                break;
            case OperationState.TimedOut:
                a.TimedOut = true;      // the linked timeout fired: the await fails with LinuxEventTimeoutException
                a.Cancelled();
                break;
            default:
                a.Fail(a.Kind == AsyncKind.File ? Files.FileErrors.Create(a.File!, op.Error!.Errno)
                    : op.Kind == OperationKind.Connect
                    ? new LinuxEventSocketException(op.Error!.Errno, $"connect(fd={op.Fd}, {a.Remote})")
                    : ThrowHelper.IoError(op.Kind, op.Fd, op.Error!.Errno));
                break;
        }
        op.File?.ClearReferences();     // the request keeps no reference to the caller's memory once settled
    }

    /// <summary>
    /// io_uring reports a request that a signal interrupted before it transferred anything as -EINTR (the kernel's
    /// -ERESTARTSYS). The reactor's syscalls retry EINTR inside, so on both models the async API retries it and the
    /// caller never sees it: the same code gets the same outcomes. (Found by the simulation: the chat example dropped a
    /// healthy client on the proactor only, because its SendAsync threw EINTR.) Not for connect, whose retry would find
    /// the connect already under way. An interrupted request transferred nothing, so if the caller's token fired
    /// meanwhile the use completes as cancelled. Returns false to let the failure stand.
    /// </summary>
    private bool RetryInterrupted(Operation op, AsyncOp a)
    {
        if (op.Kind is not (OperationKind.Receive or OperationKind.Send or OperationKind.Read or OperationKind.Write or OperationKind.Accept)) return false;
        if (_disposing || a.OwnerDisposed || !a.IsPending) return false;
        if (a.CancellationRequested)
        {
            op.Buffer = default;
            op.ConstBuffer = default;
            a.Cancelled();
            return true;
        }
        var error = op.Error;
        op.State = OperationState.Pending;
        op.Result = 0;
        op.Error = null;
        op.CancelRequested = false;
        try
        {
            Submit(op);
            return true;
        }
        catch (Exception ex)
        {
            op.State = OperationState.Failed;
            op.Error = error;
            op.Buffer = default;
            op.ConstBuffer = default;
            a.Fail(ex);
            return true;
        }
    }

    public override void Cancel(AsyncOp a)
    {
        // The kernel operation is cancelled; the await completes from the operation's own settlement (Cancelled, or
        // its real result if the kernel finished first, so no received bytes are lost).
        if (a.ProactorOperation is { State: OperationState.Pending } op) op.Cancel();
    }

    // ------------------------------------------------------------------ LoopFd

    /// <summary>io_uring needs nothing per fd: the registration only routes fd-number calls and tracks what to cancel.</summary>
    public override void Register(IoFd state, LoopFd registration) => RegisterFixedFile(state);

    public override void Unregister(IoFd state, LoopFd registration)
    {
        var reader = state.Reader;
        var writer = state.Writer;
        // Cancelling queues SQEs and the flush below enters the kernel: refuse a thread the ring does not accept before
        // anything changes, so a failed Dispose leaves the registration intact.
        bool files = HasFileOperations(state.Fd);
        if (reader is not null || writer is not null || files) Backend.CheckKernelAccess("LoopFd.Dispose");
        if (reader is not null) CancelForDisposal(reader);
        if (writer is not null) CancelForDisposal(writer);
        if (files) CancelFilesForDisposal(state.Fd);
        // They settle later, through their own completions; the sides are free now, so the fd number can be registered
        // again at once (a new socket may already have taken it).
        state.Reader = state.Writer = null;
        // A cancelled operation submitted in this iteration may still sit in the SQ naming the fd by number, and the fd
        // is closed next (by us when owned, by the caller otherwise): hand the queue to the kernel first.
        if (reader is not null || writer is not null || files) FlushSubmissions("LoopFd.Dispose");
        // After the flush (queued SQEs name the slot) and before the fd is closed (the table holds the file open).
        UnregisterFixedFile(state);
    }

    private static void CancelForDisposal(AsyncOp a)
    {
        // The kernel operation holds its own reference to the file, so it must be cancelled before the fd is closed;
        // it settles through its completion (as ObjectDisposedException, or with its result if the kernel finished first).
        a.OwnerDisposed = true;
        if (a.ProactorOperation is { State: OperationState.Pending } op) op.Cancel();
    }

    /// <summary>
    /// The pooled awaitable's operation, made once and reset for this use: every async call (socket, message, file)
    /// starts from the same clean state, so nothing of the previous use (an error, a file request, a cancel) leaks in.
    /// </summary>
    private Operation PrepareAsyncOperation(AsyncOp a, OperationKind kind, int fd, long offset)
    {
        var op = a.ProactorOperation ??= new Operation(Proactor, kind, s_asyncCompleted) { Data = a };
        op.Kind = kind;
        op.State = OperationState.Pending;
        op.Result = 0;
        op.Error = null;
        op.CancelRequested = false;
        op.Fd = fd;
        op.Fd2 = -1;
        op.File = null;
        op.Offset = offset;
        return op;
    }
}
