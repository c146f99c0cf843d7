using System.Net;
using LinuxEvent.Native;

namespace LinuxEvent;

// The callback API with a timeout per operation: io_uring's IORING_OP_LINK_TIMEOUT linked to the operation's SQE (the
// fake: a timer on its virtual clock). The timeout is an argument of the operation: Resubmit re-arms it.
public sealed partial class ProactorLoop
{
    /// <summary>
    /// <see cref="Receive(int, Memory{byte}, Action{Operation}?)"/> with a timeout. If nothing arrived within
    /// <paramref name="timeout"/> the kernel cancels the receive and it settles as <see cref="OperationState.TimedOut"/>
    /// (its callback runs once, as for every outcome); if it completes first, the timeout is cancelled by the kernel and
    /// it settles normally.
    /// </summary>
    /// <remarks>
    /// <para><b>Outcomes</b>: Completed (it finished first), TimedOut (the timer fired first: the kernel cancelled it
    /// with -ECANCELED; nothing was transferred), Cancelled (<see cref="Operation.Cancel"/> was requested first), Failed.
    /// An operation the kernel cannot interrupt once running (a regular-file read in the block layer) completes with
    /// its result even after its timer fired. <see cref="Operation.GetResultOrThrow"/> throws
    /// <see cref="LinuxEventTimeoutException"/> for TimedOut.</para>
    /// <para><b>Cost</b>: one extra SQE (IORING_OP_LINK_TIMEOUT) and one extra CQE per operation, both handled inside the
    /// backend; no allocation when the operation is resubmitted.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (or
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: use the overload without a timeout), or the fd is negative.</exception>
    public Operation Receive(int socket, Memory<byte> buffer, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Receive));
        var op = new Operation(this, OperationKind.Receive, onComplete) { Fd = socket, Buffer = buffer, Length = buffer.Length };
        return SubmitWithTimeout(op, timeout, nameof(Receive));
    }

    /// <summary><see cref="Send(int, ReadOnlyMemory{byte}, Action{Operation}?)"/> with a timeout; see
    /// <see cref="Receive(int, Memory{byte}, TimeSpan, Action{Operation}?)"/> for the outcomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the fd is negative.</exception>
    public Operation Send(int socket, ReadOnlyMemory<byte> buffer, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Send));
        var op = new Operation(this, OperationKind.Send, onComplete) { Fd = socket, ConstBuffer = buffer, Length = buffer.Length };
        return SubmitWithTimeout(op, timeout, nameof(Send));
    }

    /// <summary><see cref="Read(int, Memory{byte}, long, Action{Operation}?)"/> with a timeout; see
    /// <see cref="Receive(int, Memory{byte}, TimeSpan, Action{Operation}?)"/> for the outcomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the fd is negative, or the offset is below -1.</exception>
    public Operation Read(int fd, Memory<byte> buffer, long offset, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Read));
        ValidateOffset(offset, nameof(Read));
        var op = new Operation(this, OperationKind.Read, onComplete) { Fd = fd, Buffer = buffer, Offset = offset, Length = buffer.Length };
        return SubmitWithTimeout(op, timeout, nameof(Read));
    }

    /// <summary><see cref="Write(int, ReadOnlyMemory{byte}, long, Action{Operation}?)"/> with a timeout; see
    /// <see cref="Receive(int, Memory{byte}, TimeSpan, Action{Operation}?)"/> for the outcomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the fd is negative, or the offset is below -1.</exception>
    public Operation Write(int fd, ReadOnlyMemory<byte> buffer, long offset, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Write));
        ValidateOffset(offset, nameof(Write));
        var op = new Operation(this, OperationKind.Write, onComplete) { Fd = fd, ConstBuffer = buffer, Offset = offset, Length = buffer.Length };
        return SubmitWithTimeout(op, timeout, nameof(Write));
    }

    /// <summary><see cref="Accept(int, Action{Operation}?)"/> with a timeout; see
    /// <see cref="Receive(int, Memory{byte}, TimeSpan, Action{Operation}?)"/> for the outcomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the fd is negative.</exception>
    public Operation Accept(int listeningSocket, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(listeningSocket, nameof(Accept));
        var op = new Operation(this, OperationKind.Accept, onComplete) { Fd = listeningSocket };
        return SubmitWithTimeout(op, timeout, nameof(Accept));
    }

    /// <summary><see cref="Connect(int, EndPoint, Action{Operation}?)"/> with a timeout (a connect timeout); see
    /// <see cref="Receive(int, Memory{byte}, TimeSpan, Action{Operation}?)"/> for the outcomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the fd is negative.</exception>
    public Operation Connect(int socket, EndPoint remote, TimeSpan timeout, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Connect));
        ArgumentNullException.ThrowIfNull(remote);
        var op = new Operation(this, OperationKind.Connect, onComplete) { Fd = socket };
        op.SockAddr = GC.AllocateArray<byte>(SockAddr.MaxSize, pinned: true);
        op.SockAddrLength = SockAddr.Write(remote, op.SockAddr);
        return SubmitWithTimeout(op, timeout, nameof(Connect));
    }

    private Operation SubmitWithTimeout(Operation op, TimeSpan timeout, string call)
    {
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"ProactorLoop.{call}: the timeout must not be negative (use the overload without a timeout for none).");
        op.LinkTimeoutNs = TicksToNs(timeout.Ticks);
        _driver.Submit(op);
        return op;
    }
}
