namespace LinuxEvent.Native;

// Clocks other than CLOCK_MONOTONIC, for the timerfd adaptor (Timers/TimerFd.cs).
internal static partial class Libc
{
    /// <summary>CLOCK_BOOTTIME (Linux 2.6.39): CLOCK_MONOTONIC plus the time spent suspended.</summary>
    public const int CLOCK_BOOTTIME = 7;

    /// <summary>TFD_TIMER_CANCEL_ON_SET (Linux 3.0): with TFD_TIMER_ABSTIME on CLOCK_REALTIME, a read fails with
    /// ECANCELED once after the wall clock was set discontinuously (settimeofday, clock_settime, NTP steps, resume).</summary>
    public const int TFD_TIMER_CANCEL_ON_SET = 2;
}
