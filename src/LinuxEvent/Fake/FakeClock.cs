namespace LinuxEvent;

/// <summary>
/// A virtual CLOCK_MONOTONIC for fake loops. Give the same instance to several fake loops
/// (<see cref="ReactorOptions.FakeClock"/>, <see cref="ProactorOptions.FakeClock"/>) and they share one time: a
/// simulation of a server and its clients then runs on one clock that only its driver moves. A fake loop created
/// without one gets its own, starting at 1 s.
/// </summary>
/// <remarks>
/// Time only moves forward. A fake loop that would sleep jumps its clock to the wake-up time instead (to its next timer
/// deadline, or by the RunOnce timeout); on a shared clock that jump moves every loop's time, so a driver of several
/// loops runs them with a zero timeout (<c>RunOnce(TimeSpan.Zero)</c>) and moves the clock itself
/// (<see cref="AdvanceTo"/>), to the earliest deadline it knows of (<see cref="FakeReadiness.NextTimerDeadline"/>,
/// <see cref="FakeCompletions.NextTimerDeadline"/>). Not thread-safe: loops sharing a clock are driven by one thread.
/// </remarks>
public sealed class FakeClock
{
    /// <summary>Creates a clock reading <paramref name="startNanoseconds"/> (default 1 s, so that "now minus something"
    /// stays positive).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startNanoseconds"/> is negative.</exception>
    public FakeClock(long startNanoseconds = 1_000_000_000L)
    {
        if (startNanoseconds < 0) throw new ArgumentOutOfRangeException(nameof(startNanoseconds), startNanoseconds, "FakeClock: the start time must not be negative.");
        NowNanoseconds = startNanoseconds;
    }

    /// <summary>The virtual time in nanoseconds.</summary>
    public long NowNanoseconds { get; private set; }

    /// <summary>Moves the clock forward by <paramref name="by"/> (saturating). Loops see the new time from their next
    /// iteration; timers that became due fire then.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "FakeClock.Advance: time only moves forward.");
        AdvanceNanoseconds(Loop.TicksToNs(by.Ticks));
    }

    /// <summary>Moves the clock to <paramref name="nanoseconds"/>; a time not after <see cref="NowNanoseconds"/> leaves it
    /// unchanged (time never goes back).</summary>
    public void AdvanceTo(long nanoseconds)
    {
        if (nanoseconds > NowNanoseconds) NowNanoseconds = nanoseconds;
    }

    /// <summary>Moves the clock forward by <paramref name="ns"/> nanoseconds (saturating; negative is ignored).</summary>
    internal void AdvanceNanoseconds(long ns)
    {
        if (ns > 0) NowNanoseconds = Loop.SaturatingAdd(NowNanoseconds, ns);
    }

    /// <inheritdoc />
    public override string ToString() => $"FakeClock({NowNanoseconds} ns)";
}
