namespace LinuxEvent.Async;

// The deadline of one use (Loop.Deadlines.cs): the timeout the call was given, whether it expired, and the loop timer
// that enforces it on drivers that do not link it into the kernel (the reactor).
internal sealed partial class AsyncOp
{
    /// <summary>No deadline.</summary>
    internal const long NoTimeout = -1;

    /// <summary>This use's timeout in nanoseconds, or <see cref="NoTimeout"/>.</summary>
    internal long TimeoutNs = NoTimeout;

    /// <summary>The deadline expired: the operation is being (or was) cancelled for it, and settles as a timeout.</summary>
    internal bool TimedOut;

    /// <summary>The loop timer of the deadline (drivers without kernel-linked deadlines): created on the first use with
    /// a deadline, then restarted, so a deadline costs no allocation in steady state.</summary>
    internal TimerHandle? DeadlineTimer;

    /// <summary>The operation settled: its loop timer must not fire into a later use.</summary>
    private void EndDeadline()
    {
        if (DeadlineTimer is { IsActive: true } t) t.Cancel();
    }
}
