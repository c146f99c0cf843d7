using System.Net;
using LinuxEvent.Seam;

namespace LinuxEvent.Async;

/// <summary>
/// A pooled awaitable for one async operation of a loop (see <see cref="LoopValueTaskSource{T}"/> for the await,
/// version and scheduling contract). It carries the operation's arguments, the fd state whose read or write side it
/// occupies while pending (<see cref="Target"/>, the one-pending-operation-per-direction rule above the seam), and per
/// model its reusable machinery: a timer for DelayAsync, or one proactor <see cref="Operation"/>. Returned to the
/// loop's pool once its result is taken, so an awaited operation allocates nothing in steady state.
/// </summary>
internal sealed partial class AsyncOp : LoopValueTaskSource<int>
{
    // Operation arguments (reused).
    internal AsyncKind Kind;
    internal int Fd;
    internal Memory<byte> Buffer;
    internal ReadOnlyMemory<byte> ConstBuffer;
    internal EndPoint? Remote;                    // connect
    internal TimerHandle? Timer;                  // DelayAsync: created once, Restart'ed on reuse
    internal Operation? ProactorOperation;        // proactor: created once, resubmitted on reuse
    internal IoFd? Target;                        // the fd state whose side this use occupies while pending
    internal bool Reading;                        // which side: read (receive, read, accept) or write (send, write, connect)
    internal bool OwnerDisposed;                  // cancelled by LoopFd.Dispose (settles as ObjectDisposedException)
    internal Files.FileRequest? File;             // AsyncKind.File: the request (created once, reused)

    internal AsyncOp(Loop loop) : base(loop) { }

    /// <summary>Begins a use; the start path arms the operation and then calls <see cref="Armed"/>.</summary>
    internal void Start(CancellationToken token)
    {
        BeginUse(token);
        OwnerDisposed = false;
        Target = null;
        TimeoutNs = NoTimeout;
        TimedOut = false;
    }

    /// <summary>True once this use's token asked for cancellation.</summary>
    internal bool CancellationRequested => Token.IsCancellationRequested;

    /// <summary>The operation is armed: from now on a cancelled token may act on it (inline, on the loop thread).</summary>
    internal void Armed() => ArmCancellation();

    internal void Complete(int result)
    {
        LeaveSide();
        EndDeadline();
        SetResult(result);
    }

    internal void Fail(Exception error)
    {
        LeaveSide();
        EndDeadline();
        SetException(error);
    }

    /// <summary>Settles as cancelled by the token, or, when the deadline expired (<see cref="TimedOut"/>), with a
    /// <see cref="LinuxEventTimeoutException"/>.</summary>
    internal void Cancelled()
    {
        LeaveSide();
        EndDeadline();
        if (TimedOut && IsPending) SetException(Loop.TimeoutError(this));
        else SetCanceled();
    }

    /// <summary>Frees the side of the fd state this use occupied, so the next operation of that direction may start.</summary>
    private void LeaveSide()
    {
        if (!IsPending || Target is not { } t) return;
        if (Reading) { if (ReferenceEquals(t.Reader, this)) t.Reader = null; }
        else if (ReferenceEquals(t.Writer, this)) t.Writer = null;
    }

    protected override void OnCancelRequested() => Loop.CancelAsync(this, Version);

    protected override void OnConsumed()
    {
        Kind = AsyncKind.None;
        Buffer = default;
        ConstBuffer = default;
        Remote = null;
        Target = null;
        ClearMessage();
        Loop.ReturnAsyncOp(this);
    }
}
