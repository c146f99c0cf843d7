namespace LinuxEvent;

/// <summary>
/// The <see cref="SynchronizationContext"/> of a loop: continuations posted to it run on the loop thread, from the
/// loop's dispatch (its deferred phase), in posting order. Installed on the loop thread while <see cref="Loop.Run()"/>
/// or <see cref="Loop.RunOnce"/> executes, so an <c>await</c> started on the loop resumes on the loop: loop code needs
/// no locks. Posts from other threads go through <see cref="Loop.Post(Action{Loop})"/> (thread-safe, wakes the loop).
/// </summary>
public sealed class LoopSynchronizationContext : SynchronizationContext
{
    internal LoopSynchronizationContext(Loop loop) => Loop = loop;

    /// <summary>The loop this context schedules onto.</summary>
    public Loop Loop { get; }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Loop.CanDeferHere) Loop.DeferPost(d, state);
        // Posted for the loop thread, which runs it even while the loop is being disposed (in its final drain); once
        // the loop is drained there is no loop thread any more and it runs on the thread pool (and sees the disposal).
        else if (!Loop.TryPostInternal(static (_, s) => { var (cb, st) = ((SendOrPostCallback, object?))s!; cb(st); }, (d, state)))
            Loop.RunAfterDisposal(static s => { var (cb, st) = ((SendOrPostCallback, object?))s!; cb(st); }, (d, state));
    }

    /// <summary>
    /// Runs <paramref name="d"/> synchronously when called on the loop thread. From another thread it is refused:
    /// blocking a thread until the loop runs a callback is a deadlock waiting to happen; use <see cref="Post"/>.
    /// </summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (!Loop.IsOnLoopThread)
            throw new NotSupportedException("LoopSynchronizationContext.Send from another thread would block on the loop; use Post.");
        d(state);
    }

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;
}
