namespace LinuxEvent;

/// <summary>A <see cref="TaskScheduler"/> that runs tasks on a loop's thread (see <see cref="Loop.TaskScheduler"/>).</summary>
public sealed class LoopTaskScheduler : TaskScheduler
{
    private readonly Loop _loop;

    internal LoopTaskScheduler(Loop loop) => _loop = loop;

    /// <summary>One: the loop thread.</summary>
    public override int MaximumConcurrencyLevel => 1;

    /// <inheritdoc />
    protected override void QueueTask(Task task)
    {
        if (_loop.CanDeferHere) _loop.Defer(static s => { var (sch, t) = ((LoopTaskScheduler, Task))s!; sch.TryExecuteTask(t); }, (this, task));
        else if (!_loop.TryPostInternal(static (_, s) => { var (sch, t) = ((LoopTaskScheduler, Task))s!; sch.TryExecuteTask(t); }, (this, task)))
            throw new ObjectDisposedException(nameof(Loop), "LoopTaskScheduler: the loop is disposed.");
    }

    /// <inheritdoc />
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
        => _loop.IsOnLoopThread && TryExecuteTask(task);

    /// <inheritdoc />
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
