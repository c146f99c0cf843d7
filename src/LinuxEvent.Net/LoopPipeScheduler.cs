using System.IO.Pipelines;

namespace LinuxEvent.Net;

/// <summary>
/// A <see cref="PipeScheduler"/> that runs continuations on a loop's thread, from its deferred phase (never inline
/// inside the call that schedules them). Give it to a <see cref="Pipe"/> as the scheduler of the side the loop drives,
/// so that side's awaits resume on the loop and may call loop-only members such as <see cref="LoopStream.Write"/>.
/// </summary>
/// <remarks>Thread-safe (<see cref="Loop.Defer"/>). From the loop thread scheduling costs a slot in the loop's ready
/// ring: no allocation, no syscall. From another thread it is a post that wakes the loop. Once the loop is gone,
/// continuations run on the thread pool, so an awaiting side still resumes and observes the end.</remarks>
public sealed class LoopPipeScheduler : PipeScheduler
{
    /// <summary>Creates a scheduler for <paramref name="loop"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    public LoopPipeScheduler(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The loop continuations run on.</summary>
    public Loop Loop { get; }

    /// <summary>Queues <paramref name="action"/> to run on the loop thread.</summary>
    public override void Schedule(Action<object?> action, object? state) => Loop.Defer(action, state);

    /// <inheritdoc />
    public override string ToString() => $"LoopPipeScheduler({Loop})";
}
