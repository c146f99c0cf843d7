using System.Runtime.ExceptionServices;

namespace LinuxEvent;

public abstract partial class Loop
{
    private int _stopRequested;
    private ManualResetEventSlim? _runExited;
    private TaskCompletionSource? _runExitedTask;
    private List<Exception>? _pendingErrors;
    private int _callbacksRun;

    // ------------------------------------------------------------------ running

    /// <summary>
    /// Runs iterations until <see cref="Stop"/> is called (from a callback or any thread). Returns at once, without
    /// blocking, if <see cref="Stop"/> was called before. The loop does not end by itself when idle: a daemon's loop
    /// waits for posts, signals and I/O until it is told to stop.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is already running (re-entrant or on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void Run()
    {
        Enter();
        try
        {
            while (Interlocked.Exchange(ref _stopRequested, 0) == 0)
            {
                Iterate(-1);
                ThrowPendingErrors();
            }
        }
        finally { Exit(); }
    }

    /// <summary>
    /// Runs iterations until <see cref="Stop"/> is called or <paramref name="cancellationToken"/> is cancelled (which
    /// stops the loop exactly like <see cref="Stop"/>, from any thread; Run then returns normally). A token already
    /// cancelled makes Run return at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is already running (re-entrant or on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void Run(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return;
        using var stop = cancellationToken.UnsafeRegister(static s => ((Loop)s!).Stop(), this);
        Run();
    }

    /// <summary>
    /// Runs one iteration: waits at most <paramref name="timeout"/> (null = until something happens; zero = poll),
    /// capped by the next timer deadline, then dispatches. Returns the number of callbacks run.
    /// A pending <see cref="Stop"/> makes the wait zero but is not consumed (the next <see cref="Run()"/> returns at once).
    /// </summary>
    public int RunOnce(TimeSpan? timeout = null)
    {
        long ns = -1;
        if (timeout is { } t)
        {
            if (t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
                throw new ArgumentOutOfRangeException(nameof(timeout), t, "Loop.RunOnce: the timeout must not be negative.");
            ns = t == Timeout.InfiniteTimeSpan ? -1 : TicksToNs(t.Ticks);
        }
        Enter();
        try
        {
            int n = Iterate(ns);
            ThrowPendingErrors();
            return n;
        }
        finally { Exit(); }
    }

    /// <summary>
    /// Asks the loop to stop. Thread-safe. Inside a callback, <see cref="Run()"/> returns after the current iteration
    /// completes (the remaining callbacks of the batch still run) without entering the kernel wait again.
    /// Before <see cref="Run()"/>, it makes the next <see cref="Run()"/> return immediately.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1) return;
        if (_runningThread != 0 && _runningThread != Environment.CurrentManagedThreadId) WakeIfAlive();
    }

    /// <summary>True after <see cref="Stop"/> until a <see cref="Run()"/> consumes the request.</summary>
    private bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    private void Enter()
    {
        lock (_stateLock)
        {
            if (_disposeRequested) ThrowDisposed();
            if (_runningThread != 0)
                throw new InvalidOperationException(_runningThread == Environment.CurrentManagedThreadId
                    ? "The loop is already running on this thread: Run/RunOnce cannot be called from a callback."
                    : "The loop is already running on another thread: one loop, one thread.");
            _runningThread = Environment.CurrentManagedThreadId;
            _runExited?.Reset();
        }
        // Whatever runs before the first iteration (Run(main)'s synchronous prefix) schedules timers against the time of
        // entry, not against the last iteration's (or the constructor's) cached time.
        UpdateNow();
        OnEnterLoopThread();
    }

    private void Exit()
    {
        OnExitLoopThread();
        bool dispose;
        lock (_stateLock)
        {
            _runningThread = 0;
            dispose = _disposeRequested && !_disposed;
        }
        try
        {
            if (dispose) DisposeCore();
        }
        finally
        {
            _runExited?.Set();              // a Dispose() waiting on another thread must never hang
            _runExitedTask?.TrySetResult();
        }
    }



    private void ThrowPendingErrors()
    {
        var errors = _pendingErrors;
        if (errors is null) return;
        _pendingErrors = null;
        if (errors.Count == 1) ExceptionDispatchInfo.Capture(errors[0]).Throw();
        throw new AggregateException("Several loop callbacks threw during one iteration.", errors);
    }

    private int Iterate(long maxWaitNs)
    {
        _callbacksRun = 0;
        // Stream writes made on the loop thread between iterations (Run(main)'s synchronous part) go out before the
        // wait; those of this iteration's callbacks at its end (below).
        Driver.FlushWrites();
        // The clock is needed before the wait only to bound it by the next timer deadline; callbacks see the time read
        // after the wait (OnWaitReturned). Skipping the read when no timer is scheduled saves a clock_gettime per
        // iteration on busy I/O loops.
        if (_timers.Count > 0) UpdateNow();
        long wait = maxWaitNs;
        if (StopRequested || _disposeRequested || _pendingErrors is not null || HasImmediateWork) wait = 0;
        else if (_timers.Peek() is { } next)
        {
            // Compare before subtracting: a deadline near long.MinValue (At() far in the past) would wrap.
            long untilDeadline = next.Deadline <= _now ? 0 : next.Deadline - _now;
            if (untilDeadline <= 0) wait = 0;
            else if (wait < 0 || untilDeadline < wait) wait = untilDeadline;
        }
        Backend.Wait(wait);                // the backend re-reads the clock after its wait (OnWaitReturned)
        RunDueTimers();
        DrainPosts();
        RunDeferred();
        Driver.FlushWrites();              // the reactor's coalesced stream writes, one send per stream
        var metrics = Metrics;
        metrics.Iterations++;
        // Busy time: from the wait's return (the clock read then) to now. The extra clock read happens only while a
        // listener collects it.
        if (LoopMeter.BusyTimeEnabled) metrics.BusyNanoseconds += Backend.ReadClock() - _now;
        return _callbacksRun;
    }


    /// <summary>
    /// The Fake controls' RunUntilIdle: iterations with a zero wait (the virtual clock does not move) until one runs no
    /// callback and the backend has nothing queued; returns the callbacks run.
    /// </summary>
    internal int RunUntilIdle(int maxIterations, string call)
    {
        int total = 0;
        for (int i = 0; i < maxIterations; i++)
        {
            int n = RunOnce(TimeSpan.Zero);
            total += n;
            if (n == 0 && !Backend.HasQueuedWork) return total;
        }
        throw new InvalidOperationException($"{call}: still busy after {maxIterations} iterations.");
    }

    // ------------------------------------------------------------------ callback invocation and errors

    /// <summary>
    /// Hands an exception thrown by user code to <see cref="UnhandledException"/>; with no handler (or a handler that
    /// throws) it is kept and rethrown from <see cref="Run()"/>/<see cref="RunOnce"/> once the iteration is over.
    /// Components built on the loop call this for exceptions escaping their callbacks, so a throwing callback never
    /// kills the loop and is never lost. Loop thread.
    /// </summary>
    public void ReportException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var handler = UnhandledException;
        if (handler is not null)
        {
            try { handler(this, exception); return; }
            catch (Exception handlerEx) { exception = handlerEx; }
        }
        (_pendingErrors ??= new()).Add(exception);
    }

    /// <summary>Counts a callback run by a backend's own invoker (for RunOnce's return value).</summary>
    internal void CallbacksRunIncrement() => _callbacksRun++;

    internal void Invoke(Action<Loop> callback)
    {
        _callbacksRun++;
        try { callback(this); } catch (Exception ex) { ReportException(ex); }
    }

    internal void Invoke<T>(Action<T> callback, T arg)
    {
        _callbacksRun++;
        try { callback(arg); } catch (Exception ex) { ReportException(ex); }
    }

    internal void Invoke<T1, T2>(Action<T1, T2> callback, T1 a, T2 b)
    {
        _callbacksRun++;
        try { callback(a, b); } catch (Exception ex) { ReportException(ex); }
    }
}
