using LinuxEvent.Timers;

namespace LinuxEvent;

public abstract partial class Loop
{
    private readonly TimerQueue _timers = new();
    private readonly List<TimerHandle> _due = new();
    private ulong _timerSequence;


    /// <summary>Runs <paramref name="callback"/> once, <paramref name="delay"/> from now. <c>After(TimeSpan.Zero)</c> fires on the next iteration.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public TimerHandle After(TimeSpan delay, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(DeadlineAfter(delay, nameof(After)), 0, callback, null);
    }

    /// <summary>State-passing <see cref="After(TimeSpan, Action{Loop})"/>: no closure allocation.</summary>
    public TimerHandle After<TState>(TimeSpan delay, TState state, Action<Loop, TState> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return ScheduleWithState(DeadlineAfter(delay, nameof(After)), 0, callback, state);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> once at the absolute monotonic time <paramref name="monotonicDeadlineNanoseconds"/>
    /// (see <see cref="NowNanoseconds"/>). A deadline in the past fires on the next iteration.
    /// </summary>
    public TimerHandle At(long monotonicDeadlineNanoseconds, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(At));
        return Schedule(monotonicDeadlineNanoseconds, 0, callback, null);
    }

    /// <summary>State-passing <see cref="At(long, Action{Loop})"/>.</summary>
    public TimerHandle At<TState>(long monotonicDeadlineNanoseconds, TState state, Action<Loop, TState> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(At));
        return ScheduleWithState(monotonicDeadlineNanoseconds, 0, callback, state);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> every <paramref name="interval"/>, drift-free: each deadline is the previous
    /// deadline plus the interval, not "callback end plus interval". After a stall longer than the interval
    /// (a long callback, a suspended process) missed ticks are not replayed: the callback runs once, and the next
    /// deadline is the first one on the original phase grid that lies after the current time.
    /// Runs until cancelled.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is zero or negative.</exception>
    public TimerHandle Every(TimeSpan interval, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        long ns = IntervalNs(interval);
        return Schedule(DeadlineAfter(interval, nameof(Every)), ns, callback, null);
    }

    /// <summary>State-passing <see cref="Every(TimeSpan, Action{Loop})"/>.</summary>
    public TimerHandle Every<TState>(TimeSpan interval, TState state, Action<Loop, TState> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        long ns = IntervalNs(interval);
        return ScheduleWithState(DeadlineAfter(interval, nameof(Every)), ns, callback, state);
    }

    private static long IntervalNs(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "Loop.Every: the interval must be positive.");
        return TicksToNs(interval.Ticks);
    }

    /// <summary>TimeSpan ticks (100 ns) to nanoseconds, saturating: TimeSpan.MaxValue becomes "never", not a wrap.</summary>
    internal static long TicksToNs(long ticks) => ticks > long.MaxValue / 100 ? long.MaxValue : ticks * 100;


    private long DeadlineAfter(TimeSpan delay, string call)
    {
        if (delay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Loop.{call}: the delay must not be negative.");
        CheckThread(call);
        // Inside a callback the iteration's cached time is the reference (every timer of a batch is relative to the same
        // instant). Outside a running loop (setup before Run) the cache may be arbitrarily old: refresh it first.
        if (!IsOnLoopThread) UpdateNow();
        return SaturatingAdd(_now, TicksToNs(delay.Ticks));
    }

    /// <summary>Adds without wrapping: a huge delay becomes "never" (long.MaxValue), not a deadline in the past.</summary>
    internal static long SaturatingAdd(long a, long b)
    {
        long r = unchecked(a + b);
        return b > 0 && r < a ? long.MaxValue : r;
    }

    // A reference-type state is stored as is (FireTimer calls the callback as Action<Loop, object?>, which is sound for
    // reference types only); a value-type state goes into one holder made here, so struct states work too.
    private TimerHandle ScheduleWithState<TState>(long deadline, long intervalNs, Action<Loop, TState> callback, TState state) =>
        typeof(TState).IsValueType
            ? Schedule(deadline, intervalNs, ValueStateCallback<TState>.Invoke, new ValueStateCallback<TState>(callback, state))
            : Schedule(deadline, intervalNs, callback, state);

    private TimerHandle Schedule(long deadline, long intervalNs, Delegate callback, object? state)
    {
        var t = new TimerHandle(this, callback, state) { IntervalNs = intervalNs };
        Enqueue(t, deadline);
        return t;
    }

    private void Enqueue(TimerHandle t, long deadline)
    {
        t.Deferred = false;
        t.Deadline = deadline;
        t.Sequence = ++_timerSequence;
        t.State = TimerHandle.TimerState.Queued;
        _timers.Insert(t);
    }

    internal bool CancelTimer(TimerHandle t)
    {
        // Disposal dropped every timer: none will fire, and cancelling during or after disposal (e.g. from a callback
        // that disposal itself runs) must not throw.
        if (_disposeRequested) return false;
        CheckThread(nameof(TimerHandle) + ".Cancel");
        switch (t.State)
        {
            case TimerHandle.TimerState.Queued:
                _timers.Remove(t);
                t.Deferred = false;
                t.State = TimerHandle.TimerState.Cancelled;
                return true;
            case TimerHandle.TimerState.Due:       // collected in the batch being fired; it is skipped
                t.State = TimerHandle.TimerState.Cancelled;
                return true;
            default:
                return false;
        }
    }

    internal void RestartTimer(TimerHandle t, TimeSpan delay)
    {
        long deadline = DeadlineAfter(delay, nameof(TimerHandle) + ".Restart");
        t.IntervalNs = 0;
        if (t.State == TimerHandle.TimerState.Queued)
        {
            if (deadline >= t.Deadline)
            {
                // Later than (or equal to) where the heap holds it: record it and leave the heap alone. The entry comes due
                // at its old deadline and is moved then, once, in RunDueTimers; the sequence taken now keeps the order of
                // equal deadlines (scheduling order) exact.
                t.Deferred = true;
                t.DeferredDeadline = deadline;
                t.DeferredSequence = ++_timerSequence;
                return;
            }
            _timers.Remove(t);
        }
        Enqueue(t, deadline);
    }

    /// <summary>Timers currently scheduled (for tests and diagnostics).</summary>
    public int PendingTimerCount => _timers.Count;

    /// <summary>The earliest timer deadline, or null when no timer is scheduled.</summary>
    internal long? NextTimerDeadline => _timers.Peek()?.Deadline;

    private void RunDueTimers()
    {
        if (_timers.Count == 0) return;
        long now = _now;
        // Collect first, then fire: timers scheduled by these callbacks (After(0), At(past)) wait for the next
        // iteration, and a sibling cancelled by an earlier callback is skipped because its state changed.
        while (_timers.Peek() is { } top && top.Deadline <= now)
        {
            _timers.PopMin();
            if (top.Deferred)
            {
                // A restarted timer whose heap entry was left at its old deadline: move it to the deadline it was
                // restarted to (if that is already due, the loop pops it again right away).
                top.Deferred = false;
                top.Deadline = top.DeferredDeadline;
                top.Sequence = top.DeferredSequence;
                _timers.Insert(top);
                continue;
            }
            top.State = TimerHandle.TimerState.Due;
            _due.Add(top);
        }
        for (int i = 0; i < _due.Count; i++)
        {
            var t = _due[i];
            if (t.State != TimerHandle.TimerState.Due) continue;
            if (t.IntervalNs == 0) t.State = TimerHandle.TimerState.Idle;
            FireTimer(t);
            if (t.IntervalNs > 0 && t.State == TimerHandle.TimerState.Due)
            {
                long next = SaturatingAdd(t.Deadline, t.IntervalNs);
                if (next <= _now)
                {
                    long missed = (_now - t.Deadline) / t.IntervalNs;     // skip ticks lost to a stall, keep the phase
                    next = SaturatingAdd(t.Deadline, SaturatingMul(missed + 1, t.IntervalNs));
                }
                Enqueue(t, next);
            }
        }
        _due.Clear();
    }

    /// <summary>
    /// Invokes an <c>Action&lt;Loop, TState&gt;</c> stored as <see cref="Delegate"/> with its state. Every public
    /// state-passing overload stores either a reference-type state of exactly the callback's TState, or (for a value
    /// type) a <see cref="ValueStateCallback{TState}"/> holder with its own <c>Action&lt;Loop, object?&gt;</c>, so viewing
    /// the delegate as <c>Action&lt;Loop, object?&gt;</c> is sound (reference types share one calling
    /// convention) and avoids DynamicInvoke's reflection and allocation.
    /// </summary>
    private void InvokeWithState(Delegate callback, object? state)
        => System.Runtime.CompilerServices.Unsafe.As<Action<Loop, object?>>(callback)(this, state);

    private static long SaturatingMul(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;

    private void FireTimer(TimerHandle t)
    {
        _callbacksRun++;
        try
        {
            if (t.Callback is Action<Loop> a) a(this);
            else InvokeWithState(t.Callback, t.CallbackState);
        }
        catch (Exception ex) { ReportException(ex); }
    }
}
