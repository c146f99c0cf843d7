namespace LinuxEvent.Async;

/// <summary>What an <see cref="AsyncOp"/> is doing (reactor retries the matching syscall on readiness).</summary>
internal enum AsyncKind : byte { None, Read, Write, Receive, Send, Accept, Connect, WaitReadable, WaitWritable, Delay }

/// <summary>
/// A pooled awaitable for one async operation of a loop (see <see cref="LoopValueTaskSource{T}"/> for the await,
/// version and scheduling contract). It carries the operation's arguments and, per model, its reusable machinery: a
/// timer for DelayAsync, one proactor <see cref="Operation"/>, or the fd's readiness state on the reactor. Returned to
/// the loop's pool once its result is taken, so an awaited operation allocates nothing in steady state.
/// </summary>
internal sealed class AsyncOp : LoopValueTaskSource<int>
{
    // Operation arguments (reused).
    internal AsyncKind Kind;
    internal int Fd;
    internal Memory<byte> Buffer;
    internal ReadOnlyMemory<byte> ConstBuffer;
    internal TimerHandle? Timer;                  // DelayAsync: created once, Restart'ed on reuse
    internal Operation? ProactorOperation;        // proactor: created once, resubmitted on reuse
    internal object? ModelState;                  // reactor: the fd's readiness state
    internal bool OwnerDisposed;                  // proactor: cancelled by LoopFd.Dispose (settles as ObjectDisposedException)
    internal LoopFd? Owner;                       // proactor: the registration tracking this use (until it is consumed)

    internal AsyncOp(Loop loop) : base(loop) { }

    /// <summary>Begins a use; the start path arms the operation and then calls <see cref="Armed"/>.</summary>
    internal void Start(CancellationToken token)
    {
        BeginUse(token);
        OwnerDisposed = false;
        Owner = null;
    }

    /// <summary>The operation is armed: from now on a cancelled token may act on it (inline, on the loop thread).</summary>
    internal void Armed() => ArmCancellation();

    internal void Complete(int result) => SetResult(result);

    internal void Fail(Exception error) => SetException(error);

    internal void Cancelled() => SetCanceled();

    protected override void OnCancelRequested() => Loop.CancelAsync(this, Version);

    protected override void OnConsumed()
    {
        Kind = AsyncKind.None;
        Buffer = default;
        ConstBuffer = default;
        ModelState = null;
        Owner = null;
        Loop.ReturnAsyncOp(this);
    }
}
