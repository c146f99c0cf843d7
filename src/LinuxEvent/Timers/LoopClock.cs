namespace LinuxEvent;

/// <summary>The clock a <see cref="ClockTimer"/> (or a <see cref="TimerFd"/>) follows.</summary>
public enum LoopClock
{
    /// <summary>CLOCK_MONOTONIC: the loop's own clock (<see cref="Loop.NowNanoseconds"/>); never set, stops while the
    /// machine is suspended.</summary>
    Monotonic,
    /// <summary>CLOCK_REALTIME: the wall clock, nanoseconds since the Unix epoch (UTC). It may be set (by an
    /// administrator, NTP stepping it, a resume), which a wall-clock timer reports.</summary>
    Realtime,
    /// <summary>CLOCK_BOOTTIME: like CLOCK_MONOTONIC but it keeps counting while the machine is suspended, so a
    /// "one hour from now" timer on it fires after one hour of real time, asleep or not.</summary>
    Boottime,
}
