using LinuxEvent.Async;
using LinuxEvent.Datagrams;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

internal sealed unsafe partial class ReactorIoDriver
{
    /// <summary>
    /// sendmsg/recvmsg: the same "try, then wait for readiness" as <see cref="Start"/>, except that the pooled awaitable is
    /// taken first, because its msghdr (and, for a receive, the sender it decodes) is needed by the very first attempt.
    /// A message that goes through at once settles that awaitable before it is returned: the caller's await completes
    /// synchronously, and the object goes back to the pool when its result is read, so nothing is allocated either way.
    /// </summary>
    public override IoStart StartMessage(IoFd fdState, AsyncKind kind, in MessageRequest request, CancellationToken token)
    {
        var state = (ReactorFd)fdState;
        var op = Loop.ParkMessageIo(state, kind, request, token);
        if (!op.IsPending) return IoStart.Pending(op);          // the request could not be encoded: settled with the error
        bool registered = state.Registration is not null;
        bool reading = kind == AsyncKind.ReceiveMessage;
        if (!registered || (reading ? state.Readable : state.Writable))
        {
            int r = AttemptMessage(op);
            if (r != -Errno.EAGAIN)
            {
                Loop.FinishMessageIo(op, r);
                return IoStart.Pending(op);
            }
            // Datagram sockets learn "not ready" from EAGAIN only (a short datagram says nothing about the queue).
            if (registered) SetReady(state, reading, false);
        }
        // A registered fd is permanently in epoll (edge-triggered): an edge retries it. Otherwise arm the one-shot watch.
        if (!registered && Arm(state) is { } error) op.Fail(error);
        op.Armed();
        return IoStart.Pending(op);
    }

    /// <summary>One sendmsg/recvmsg attempt for a pending message operation, through the replaceable syscalls.</summary>
    /// <remarks>MSG_DONTWAIT: the loop must never block in a syscall, even on a socket its owner left blocking (a
    /// datagram socket handed over from elsewhere). The iovec points at the caller's buffer only for this call.</remarks>
    private int AttemptMessage(AsyncOp op)
    {
        var message = op.Message!;
        if (op.Kind == AsyncKind.ReceiveMessage)
        {
            var span = op.Buffer.Span;
            fixed (byte* p = span)
            {
                message.ArmReceive(p, span.Length);
                return Sys.ReceiveMessage(op.Fd, message.Header, Libc.MSG_CMSG_CLOEXEC | Libc.MSG_DONTWAIT);
            }
        }
        var data = op.ConstBuffer.Span;
        fixed (byte* p = data)
        {
            message.ArmSend(p, data.Length);
            return Sys.SendMessage(op.Fd, message.Header, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
        }
    }

    /// <summary>Readiness arrived for a parked message operation: retry it; EAGAIN (a stale report) keeps it parked.</summary>
    private void TryCompleteMessage(ReactorFd state, AsyncOp op)
    {
        int r = AttemptMessage(op);
        if (r == -Errno.EAGAIN)
        {
            if (state.Registration is not null) SetReady(state, op.Reading, false);
            return;
        }
        Loop.FinishMessageIo(op, r);
    }
}
