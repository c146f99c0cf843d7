namespace LinuxEvent.Timers;

/// <summary>
/// An <see cref="ITimer"/> on a loop: a <see cref="TimerHandle"/> re-armed as it fires, so a periodic timer costs no
/// allocation per tick. Change and Dispose are safe from any thread (posted to the loop when called elsewhere); the
/// callback runs on the loop thread, in the execution context captured when the timer was created (as
/// <see cref="TimeProvider.System"/>'s timers do, unless flow was suppressed).
/// </summary>
internal sealed class LoopTimer : ITimer
{
    private static readonly Action<Loop, LoopTimer> s_fire = static (_, t) => t.Fire();
    private static readonly ContextCallback s_invoke = static s => { var t = (LoopTimer)s!; t._callback(t._state); };

    private readonly Loop _loop;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly ExecutionContext? _context;
    private TimerHandle? _handle;
    private TimeSpan _period = Timeout.InfiniteTimeSpan;
    private int _changes;                  // bumped by every Change: a posted change that is no longer the latest is skipped
    private bool _disposed;

    public LoopTimer(Loop loop, TimerCallback callback, object? state)
    {
        _loop = loop;
        _callback = callback;
        _state = state;
        _context = ExecutionContext.Capture();
    }

    public static void Validate(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(name, value, $"TimeProvider.CreateTimer/ITimer.Change: {name} must be non-negative or Timeout.InfiniteTimeSpan.");
    }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        Validate(dueTime, nameof(dueTime));
        Validate(period, nameof(period));
        int change;
        lock (this)
        {
            if (_disposed) return false;
            change = ++_changes;
        }
        if (_loop.IsOnLoopThread || (!_loop.IsRunning && !_loop.IsDisposed)) Apply(dueTime, period, change);
        else
        {
            try { _loop.Post(static (_, s) => { var (t, d, p, c) = ((LoopTimer, TimeSpan, TimeSpan, int))s!; t.Apply(d, p, c); }, (this, dueTime, period, change)); }
            catch (ObjectDisposedException) { return false; }
        }
        return true;
    }

    private void Apply(TimeSpan dueTime, TimeSpan period, int change)
    {
        lock (this)
        {
            if (change != _changes) return;        // a later Change (or Dispose) superseded this one
        }
        if (_loop.IsDisposed) return;
        _period = period;
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            _handle?.Cancel();
            return;
        }
        if (_handle is null) _handle = _loop.After(dueTime, this, s_fire);
        else _handle.Restart(dueTime);
    }

    private void Fire()
    {
        lock (this)
        {
            if (_disposed) return;
        }
        // Re-armed before the callback, so a callback that calls Change wins (its Restart replaces this one).
        if (_period != Timeout.InfiniteTimeSpan) _handle!.Restart(_period);
        if (_context is null) _callback(_state);
        else ExecutionContext.Run(_context, s_invoke, this);
    }

    public void Dispose()
    {
        lock (this)
        {
            if (_disposed) return;
            _disposed = true;
            _changes++;
        }
        if (_loop.IsOnLoopThread || (!_loop.IsRunning && !_loop.IsDisposed)) _handle?.Cancel();
        else
        {
            try { _loop.Post(static (_, s) => ((LoopTimer)s!)._handle?.Cancel(), this); }
            catch (ObjectDisposedException) { }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
