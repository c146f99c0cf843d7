using LinuxEvent.Native;
using LinuxEvent.Reactor;

namespace LinuxEvent;

/// <summary>
/// Controls of a <see cref="ReactorLoop"/> created with <see cref="ReactorBackend.Fake"/>: inject readiness and move
/// the virtual clock. These calls only queue reports or move time; callbacks run on the next
/// <see cref="Loop.RunOnce"/>/<see cref="Loop.Run()"/>, in injection order (timers: deadline, then scheduling order).
/// </summary>
/// <remarks>
/// An injected report is delivered once, filtered like the kernel filters it: readable/writable only if the watcher
/// has that interest, error and hang-up always; a one-shot watcher is disarmed after one report until re-enabled.
/// When the loop would sleep, the virtual clock jumps to the wake-up time instead (to the next timer deadline, or
/// by the RunOnce timeout), so timer-driven code runs instantly and deterministically.
/// </remarks>
public sealed class FakeReadiness
{
    private readonly FakeReactorBackend _backend;
    private readonly ReactorLoop _loop;

    internal FakeReadiness(FakeReactorBackend backend, ReactorLoop loop)
    {
        _backend = backend;
        _loop = loop;
    }

    /// <summary>The virtual CLOCK_MONOTONIC in nanoseconds (starts at 1 s, or the shared <see cref="FakeClock"/>'s time).</summary>
    public long NowNanoseconds => _backend.ReadClock();

    /// <summary>The earliest deadline of the loop's timers (virtual nanoseconds), or null when none is scheduled: how
    /// far a driver of several loops on one <see cref="FakeClock"/> may move the clock before this loop has work.</summary>
    public long? NextTimerDeadline => _loop.NextTimerDeadline;

    /// <summary>
    /// The simulated kernel behind the loop's own syscalls on ready fds (recv, send, accept4, connect...), told of every
    /// change of the loop's interest in an fd; null (the default) means the real kernel. Set it before the loop does
    /// any I/O. See <see cref="FakeReactorKernel"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">Set on a disposed loop.</exception>
    public FakeReactorKernel? Kernel
    {
        get => _backend.Kernel;
        set
        {
            if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
            _loop.CheckLoopThread("FakeReadiness.Kernel");
            _backend.Kernel = value;
        }
    }

    /// <summary>Queues a readiness report for <paramref name="fd"/>. Ignored at delivery if nothing watches the fd then.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative or <paramref name="readiness"/> is empty.</exception>
    public void Inject(int fd, Readiness readiness)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "FakeReadiness.Inject: the fd must not be negative.");
        if (readiness == Readiness.None) throw new ArgumentOutOfRangeException(nameof(readiness), readiness, "FakeReadiness.Inject: inject at least one readiness flag.");
        if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
        uint ev = 0;
        if ((readiness & Readiness.Readable) != 0) ev |= Libc.EPOLLIN;
        if ((readiness & Readiness.Writable) != 0) ev |= Libc.EPOLLOUT;
        if ((readiness & Readiness.Error) != 0) ev |= Libc.EPOLLERR;
        if ((readiness & Readiness.HangUp) != 0) ev |= Libc.EPOLLHUP;
        if ((readiness & Readiness.ReadHangUp) != 0) ev |= Libc.EPOLLRDHUP;
        _backend.Inject(fd, ev);
    }

    /// <summary>Moves the virtual clock forward. Timers that become due fire on the next iteration.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "FakeReadiness.Advance: time only moves forward.");
        _backend.Advance(Loop.TicksToNs(by.Ticks));
        _loop.OnWaitReturned();
    }

    /// <summary>
    /// Runs iterations with a zero wait (the virtual clock does not move) until one runs no callback and nothing is
    /// queued; returns the callbacks run in total.
    /// </summary>
    /// <exception cref="InvalidOperationException">Still busy after <paramref name="maxIterations"/> iterations (a livelock).</exception>
    public int RunUntilIdle(int maxIterations = 100_000)
        => _loop.RunUntilIdle(maxIterations, "FakeReadiness.RunUntilIdle");

    /// <summary>The interest currently registered for <paramref name="fd"/> (None + false if not registered).</summary>
    public bool TryGetInterest(int fd, out WatchOptions interest)
    {
        interest = WatchOptions.None;
        if (!_backend.IsRegistered(fd, out uint ev)) return false;
        interest = FakeReactorBackend.InterestOf(ev);
        return true;
    }
}
