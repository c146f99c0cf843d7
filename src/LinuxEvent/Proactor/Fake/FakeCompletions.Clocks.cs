namespace LinuxEvent;

// The fake's other clocks (ClockTimer, Loop.GetClockNanoseconds): set the virtual wall clock, or "suspend" the machine.
public sealed partial class FakeCompletions
{
    /// <summary>
    /// Sets the virtual wall clock (CLOCK_REALTIME) to <paramref name="time"/>, as settimeofday would: wall-clock timers
    /// now due fire on the next iteration, and those made with a wall-clock callback are told (from the loop, not from
    /// this call). The monotonic and boottime clocks do not move.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is before the Unix epoch.</exception>
    public void SetWallClock(DateTimeOffset time) => _loop.SetVirtualWallClock(time, "FakeCompletions.SetWallClock");

    /// <summary>
    /// Simulates a suspend of <paramref name="duration"/>: CLOCK_BOOTTIME and CLOCK_REALTIME move on by it,
    /// CLOCK_MONOTONIC (the loop's clock) does not; boottime and wall-clock timers now due fire on the next iteration,
    /// and wall-clock timers are told the clock changed, as on a real resume.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative.</exception>
    public void Suspend(TimeSpan duration) => _loop.SuspendVirtually(duration, "FakeCompletions.Suspend");
}
