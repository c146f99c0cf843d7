namespace LinuxEvent;

/// <summary>
/// A thread-safe trigger for a loop callback, made by <see cref="Loop.CreateWakeup"/>. Any thread may call
/// <see cref="Signal"/>; the callback runs on the loop thread once per batch, with how many signals were coalesced into
/// it (at least 1). Signals never run the callback inline, and none is lost: a signal made while the callback runs
/// schedules another run. Costs no allocation per signal.
/// </summary>
public sealed class LoopWakeup : IDisposable
{
    private static readonly Action<Loop, object?> s_run = static (_, s) => ((LoopWakeup)s!).Run();
    private readonly Loop _loop;
    private readonly Action<Loop, int> _callback;
    private int _pending;
    private volatile bool _disposed;

    internal LoopWakeup(Loop loop, Action<Loop, int> callback)
    {
        _loop = loop;
        _callback = callback;
    }

    /// <summary>True until <see cref="Dispose"/>.</summary>
    public bool IsActive => !_disposed;

    /// <summary>
    /// Asks for the callback to run on the loop. Thread-safe. Returns false (and does nothing) once the wakeup or its loop
    /// is disposed.
    /// </summary>
    public bool Signal()
    {
        if (_disposed) return false;
        // The first signal of a batch queues the run; later ones only count.
        if (Interlocked.Increment(ref _pending) != 1) return true;
        return _loop.TryPost(s_run, this);
    }

    private void Run()
    {
        int count = Interlocked.Exchange(ref _pending, 0);
        if (count == 0 || _disposed) return;
        _loop.Invoke(_callback, _loop, count);
    }

    /// <summary>Stops the wakeup: later signals return false and a queued run does nothing. Thread-safe, idempotent.</summary>
    public void Dispose() => _disposed = true;
}
