namespace LinuxEvent;

// Timers on clocks other than the loop's CLOCK_MONOTONIC (ClockTimer over a TimerFd), the same on both models, and the
// fakes' virtual realtime and boottime clocks. Loop timers (After/At/Every) ride on the wait's timeout, so they can
// only follow CLOCK_MONOTONIC; a wall-clock or boottime deadline needs the kernel to track that clock: a timerfd.
public abstract partial class Loop
{
    private static readonly long s_unixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;
    private readonly List<ClockTimer> _virtualClockTimers = new();
    private long _fakeSuspendedNs;          // virtual time spent "suspended": counted by boottime and realtime only
    private long _fakeRealtimeOffsetNs;     // realtime - (monotonic + suspended) on the fakes; set on first use
    private bool _fakeRealtimeStarted;

    /// <summary>
    /// The current time of <paramref name="clock"/> in nanoseconds, read now (not cached per iteration like
    /// <see cref="NowNanoseconds"/>): clock_gettime(2); Realtime counts from the Unix epoch (UTC). On the fakes the
    /// virtual clocks: monotonic is <see cref="NowNanoseconds"/>'s clock, boottime adds the virtual time suspended, and
    /// the wall clock starts at the real time of its first use and moves with them (until a test sets it).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown clock.</exception>
    public long GetClockNanoseconds(LoopClock clock)
    {
        if (!IsFake) return TimerFd.Now(clock);
        long mono = Backend.ReadClock();
        return clock switch
        {
            LoopClock.Monotonic => mono,
            LoopClock.Boottime => SaturatingAdd(mono, _fakeSuspendedNs),
            LoopClock.Realtime => SaturatingAdd(SaturatingAdd(mono, _fakeSuspendedNs), FakeRealtimeOffset()),
            _ => throw new ArgumentOutOfRangeException(nameof(clock), clock, "Unknown LoopClock."),
        };
    }

    /// <summary>
    /// Runs <paramref name="callback"/> once, on the loop thread, when the wall clock (CLOCK_REALTIME) reaches
    /// <paramref name="wallClockTime"/>, e.g. "at 03:00": unlike <see cref="After(TimeSpan, Action{Loop})"/>, the
    /// deadline follows changes of the wall clock. A time already past fires on the next iteration.
    /// </summary>
    /// <param name="wallClockTime">The wall-clock time (any offset; compared in UTC).</param>
    /// <param name="callback">Runs once at that time.</param>
    /// <param name="onWallClockSet">Runs each time the wall clock is set (TFD_TIMER_CANCEL_ON_SET: an administrator, an
    /// NTP step, a resume) while the timer is armed; the timer stays armed for the same wall-clock time. Null: not
    /// told.</param>
    /// <returns>The timer (cancel it with <see cref="ClockTimer.Cancel"/>).</returns>
    /// <remarks>See <see cref="ClockTimer"/> for how each model and the fakes run it.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="wallClockTime"/> is before the Unix epoch.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop's thread.</exception>
    /// <exception cref="LinuxEventException">The timerfd could not be created or armed (e.g. EMFILE).</exception>
    public ClockTimer At(DateTimeOffset wallClockTime, Action<Loop> callback, Action<Loop>? onWallClockSet = null)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (wallClockTime.UtcTicks < s_unixEpochTicks)
            throw new ArgumentOutOfRangeException(nameof(wallClockTime), wallClockTime, "Loop.At: a wall-clock time before the Unix epoch (1970-01-01Z).");
        return StartClockTimer(LoopClock.Realtime, TicksToNs(wallClockTime.UtcTicks - s_unixEpochTicks), callback, onWallClockSet, "Loop.At");
    }

    /// <summary>
    /// Runs <paramref name="callback"/> once when <paramref name="clock"/> reaches <paramref name="deadlineNanoseconds"/>
    /// (see <see cref="GetClockNanoseconds"/>). A deadline already past fires on the next iteration.
    /// </summary>
    /// <returns>The timer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative deadline or an unknown clock.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop's thread.</exception>
    public ClockTimer At(LoopClock clock, long deadlineNanoseconds, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (deadlineNanoseconds < 0)
            throw new ArgumentOutOfRangeException(nameof(deadlineNanoseconds), deadlineNanoseconds, "Loop.At: the deadline must not be negative.");
        return StartClockTimer(clock, deadlineNanoseconds, callback, null, "Loop.At");
    }

    /// <summary>
    /// Runs <paramref name="callback"/> once, <paramref name="delay"/> from now on <paramref name="clock"/>. With
    /// <see cref="LoopClock.Boottime"/> the time the machine spends suspended counts: "in one hour" means one hour of
    /// real time, whereas a monotonic timer would wait one hour of time awake.
    /// </summary>
    /// <returns>The timer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative, or an unknown clock.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop's thread.</exception>
    public ClockTimer After(TimeSpan delay, LoopClock clock, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "Loop.After: the delay must not be negative.");
        CheckClock(clock);
        return StartClockTimer(clock, SaturatingAdd(GetClockNanoseconds(clock), TicksToNs(delay.Ticks)), callback, null, "Loop.After");
    }

    private ClockTimer StartClockTimer(LoopClock clock, long deadlineNs, Action<Loop> callback, Action<Loop>? onWallClockSet, string call)
    {
        CheckClock(clock);
        CheckThread(call);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var timer = new ClockTimer(this, clock, deadlineNs, callback, onWallClockSet);
        timer.Start();
        return timer;
    }

    private static void CheckClock(LoopClock clock)
    {
        if (clock is not (LoopClock.Monotonic or LoopClock.Realtime or LoopClock.Boottime))
            throw new ArgumentOutOfRangeException(nameof(clock), clock, "Unknown LoopClock.");
    }

    // ------------------------------------------------------------------ the fakes' virtual clocks

    private long FakeRealtimeOffset()
    {
        if (!_fakeRealtimeStarted)
        {
            _fakeRealtimeStarted = true;
            _fakeRealtimeOffsetNs = TicksToNs(DateTimeOffset.UtcNow.UtcTicks - s_unixEpochTicks) - Backend.ReadClock();
        }
        return _fakeRealtimeOffsetNs;
    }

    internal void AddVirtualClockTimer(ClockTimer timer) => _virtualClockTimers.Add(timer);

    internal void RemoveVirtualClockTimer(ClockTimer timer) => _virtualClockTimers.Remove(timer);

    /// <summary>Fakes: sets the virtual wall clock; realtime timers are rescheduled and told (their wall-clock
    /// callbacks run from the loop, not from this call).</summary>
    internal void SetVirtualWallClock(DateTimeOffset time, string call)
    {
        CheckThread(call);
        if (time.UtcTicks < s_unixEpochTicks)
            throw new ArgumentOutOfRangeException(nameof(time), time, $"{call}: a wall-clock time before the Unix epoch.");
        long target = TicksToNs(time.UtcTicks - s_unixEpochTicks);
        FakeRealtimeOffset();
        _fakeRealtimeOffsetNs = target - SaturatingAdd(Backend.ReadClock(), _fakeSuspendedNs);
        ClockChanged(realtimeSet: true);
    }

    /// <summary>Fakes: the machine "sleeps" for <paramref name="duration"/>: boottime and realtime move on, the
    /// monotonic clock does not (as in the kernel), and realtime timers are told the wall clock changed (a resume
    /// notifies TFD_TIMER_CANCEL_ON_SET timers too).</summary>
    internal void SuspendVirtually(TimeSpan duration, string call)
    {
        CheckThread(call);
        if (duration < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), duration, $"{call}: time only moves forward.");
        FakeRealtimeOffset();
        _fakeSuspendedNs = SaturatingAdd(_fakeSuspendedNs, TicksToNs(duration.Ticks));
        ClockChanged(realtimeSet: true);
    }

    private void ClockChanged(bool realtimeSet)
    {
        foreach (var timer in _virtualClockTimers.ToArray())
        {
            if (timer.Clock == LoopClock.Monotonic) continue;
            if (realtimeSet && timer.Clock == LoopClock.Realtime) timer.OnVirtualWallClockSet();
            else timer.ScheduleVirtually();
        }
    }
}
