using LinuxEvent.Async;

namespace LinuxEvent.Seam;

/// <summary>
/// What <see cref="IoDriver.Start"/> did: completed at once (a result, or an error), or parked a pooled awaitable that
/// settles later. A struct, so a request that completes synchronously allocates nothing.
/// </summary>
internal readonly struct IoStart
{
    private IoStart(AsyncOp? op, int result, Exception? error, CancellationToken canceledBy = default)
    {
        Op = op;
        Result = result;
        Error = error;
        CanceledBy = canceledBy;
    }

    public readonly AsyncOp? Op;
    public readonly int Result;
    public readonly Exception? Error;
    public readonly CancellationToken CanceledBy;

    public static IoStart Done(int result) => new(null, result, null);
    public static IoStart Failed(Exception error) => new(null, 0, error);
    public static IoStart Pending(AsyncOp op) => new(op, 0, null);
    public static IoStart Canceled(CancellationToken token) => new(null, 0, null, token);

    public ValueTask<int> AsValueTask()
        => Op is not null ? new ValueTask<int>(Op, Op.Version)
            : Error is not null ? ValueTask.FromException<int>(Error)
            : CanceledBy.IsCancellationRequested ? ValueTask.FromCanceled<int>(CanceledBy)
            : new ValueTask<int>(Result);

    public ValueTask AsVoidValueTask()
        => Op is not null ? new ValueTask(Op, Op.Version)
            : Error is not null ? ValueTask.FromException(Error)
            : CanceledBy.IsCancellationRequested ? ValueTask.FromCanceled(CanceledBy)
            : ValueTask.CompletedTask;
}
