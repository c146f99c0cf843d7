using System.Globalization;
using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>
/// A timerfd (timerfd_create(2)) on any <see cref="LoopClock"/>: the kernel adaptor behind <see cref="ClockTimer"/>,
/// public for code that watches the fd itself (e.g. <see cref="ReactorLoop.Watch"/> for readability, then
/// <see cref="Read"/>). The fd is non-blocking and close-on-exec; it becomes readable when the timer expires.
/// </summary>
/// <remarks>Not thread-safe: use one instance from one thread. <see cref="Dispose"/> closes the fd.</remarks>
public sealed unsafe class TimerFd : IDisposable
{
    private int _fd;

    /// <summary>Creates a disarmed timerfd on <paramref name="clock"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown clock.</exception>
    /// <exception cref="LinuxEventException">timerfd_create failed (EMFILE, ENOMEM...).</exception>
    public TimerFd(LoopClock clock)
    {
        int id = ClockId(clock, nameof(clock));
        _fd = Libc.TimerFdCreate(id, Libc.TFD_NONBLOCK | Libc.TFD_CLOEXEC);
        if (_fd < 0) throw new LinuxEventException(Libc.LastErrno, $"timerfd_create({Name(clock)})");
        Clock = clock;
    }

    /// <summary>The clock the timer follows.</summary>
    public LoopClock Clock { get; }

    /// <summary>The timerfd, or -1 once disposed. Readable (EPOLLIN/POLLIN) while an expiration is unread.</summary>
    public int FileDescriptor => _fd;

    /// <summary>
    /// Arms the timer to expire at <paramref name="deadlineNanoseconds"/> on its clock (TFD_TIMER_ABSTIME), then every
    /// <paramref name="interval"/> if that is positive. A deadline already past expires at once. With
    /// <paramref name="cancelOnClockSet"/> on a <see cref="LoopClock.Realtime"/> timer (TFD_TIMER_CANCEL_ON_SET), the
    /// next <see cref="Read"/> after the wall clock was set reports it; the timer stays armed for the same wall-clock
    /// time.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative deadline or interval, or <paramref name="cancelOnClockSet"/>
    /// on a clock other than Realtime.</exception>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public void ArmAt(long deadlineNanoseconds, TimeSpan interval = default, bool cancelOnClockSet = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deadlineNanoseconds);
        if (cancelOnClockSet && Clock != LoopClock.Realtime)
            throw new ArgumentOutOfRangeException(nameof(cancelOnClockSet), cancelOnClockSet, $"TimerFd.ArmAt: only a Realtime timer can be cancelled by a clock change (this one is {Clock}).");
        int flags = Libc.TFD_TIMER_ABSTIME | (cancelOnClockSet ? Libc.TFD_TIMER_CANCEL_ON_SET : 0);
        // it_value 0 would disarm: the earliest absolute time, 1 ns, is in the past and expires at once.
        Set(flags, Math.Max(1, deadlineNanoseconds), interval, "ArmAt");
    }

    /// <summary>Arms the timer to expire <paramref name="delay"/> from now on its clock, then every
    /// <paramref name="interval"/> if positive. A zero delay expires at once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative delay or interval.</exception>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public void ArmAfter(TimeSpan delay, TimeSpan interval = default)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "TimerFd.ArmAfter: the delay must not be negative.");
        Set(0, Math.Max(1, Loop.TicksToNs(delay.Ticks)), interval, "ArmAfter");
    }

    /// <summary>Disarms the timer (an unread expiration is discarded).</summary>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public void Disarm() => Set(0, 0, TimeSpan.Zero, "Disarm");

    /// <summary>
    /// Reads the expirations since the last read: 0 if there are none (the read would block),
    /// <paramref name="clockWasSet"/> true if the wall clock was set since (TFD_TIMER_CANCEL_ON_SET; the read failed
    /// with ECANCELED, and reports 0 expirations).
    /// </summary>
    /// <exception cref="LinuxEventException">read failed otherwise.</exception>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public long Read(out bool clockWasSet)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        clockWasSet = false;
        ulong count;
        nint n = Libc.Read(_fd, (byte*)&count, 8);
        if (n == 8) return (long)count;
        int errno = Libc.LastErrno;
        if (errno == Errno.EAGAIN) return 0;
        // timerfd_read: a cancel-on-set timer whose clock was set returns -ECANCELED once (timerfd_canceled).
        if (errno == Errno.ECANCELED) { clockWasSet = true; return 0; }
        throw new LinuxEventException(errno, string.Create(CultureInfo.InvariantCulture, $"read(timerfd={_fd})"));
    }

    /// <summary>The current time of <paramref name="clock"/> in nanoseconds (clock_gettime(2)); Realtime is since
    /// the Unix epoch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown clock.</exception>
    public static long Now(LoopClock clock)
    {
        Libc.Timespec ts;
        if (Libc.ClockGetTime(ClockId(clock, nameof(clock)), &ts) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"clock_gettime({Name(clock)})");
        return ts.tv_sec * 1_000_000_000L + ts.tv_nsec;
    }

    /// <summary>Closes the fd. Idempotent.</summary>
    public void Dispose()
    {
        int fd = _fd;
        if (fd < 0) return;
        _fd = -1;
        Libc.Close(fd);
    }

    private void Set(int flags, long valueNs, TimeSpan interval, string call)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (interval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), interval, $"TimerFd.{call}: the interval must not be negative.");
        long intervalNs = Loop.TicksToNs(interval.Ticks);
        var spec = new Libc.Itimerspec
        {
            it_value = new Libc.Timespec { tv_sec = valueNs / 1_000_000_000, tv_nsec = valueNs % 1_000_000_000 },
            it_interval = new Libc.Timespec { tv_sec = intervalNs / 1_000_000_000, tv_nsec = intervalNs % 1_000_000_000 },
        };
        if (Libc.TimerFdSetTime(_fd, flags, &spec, null) != 0)
            throw new LinuxEventException(Libc.LastErrno, string.Create(CultureInfo.InvariantCulture, $"timerfd_settime(fd={_fd}, {Name(Clock)})"), $"TimerFd.{call}");
    }

    internal static int ClockId(LoopClock clock, string paramName) => clock switch
    {
        LoopClock.Monotonic => Libc.CLOCK_MONOTONIC,
        LoopClock.Realtime => Libc.CLOCK_REALTIME,
        LoopClock.Boottime => Libc.CLOCK_BOOTTIME,
        _ => throw new ArgumentOutOfRangeException(paramName, clock, "Unknown LoopClock."),
    };

    private static string Name(LoopClock clock) => clock switch
    {
        LoopClock.Realtime => "CLOCK_REALTIME",
        LoopClock.Boottime => "CLOCK_BOOTTIME",
        _ => "CLOCK_MONOTONIC",
    };
}
