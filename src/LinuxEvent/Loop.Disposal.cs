using LinuxEvent.Async;

namespace LinuxEvent;

public abstract partial class Loop
{
    // ------------------------------------------------------------------ disposal

    /// <summary>
    /// Closes every fd the loop opened and releases the backend. Thread-safe and idempotent. Called from a callback,
    /// the loop stops and disposes when the current iteration ends; called from another thread while the loop runs,
    /// it stops the loop and waits for it to leave before releasing resources. Pending timers are dropped; a proactor
    /// settles in-flight operations first (see <see cref="ProactorLoop"/>).
    /// </summary>
    /// <remarks>
    /// A proactor whose <see cref="Run()"/> has returned on another thread ("Stop, Join, Dispose") cannot be drained
    /// from here: io_uring lets only the ring's owner thread enter it. Once that thread has exited (joined), the kernel
    /// can no longer write into the loop's memory, so disposal settles every operation as Cancelled and releases the
    /// ring, every pin and the provided buffers (waiting at most 500 ms for the kernel to finish the thread's exit).
    /// If the owner thread is still alive (a thread-pool thread that ran the loop), the ring is still closed and
    /// unmapped, so the kernel cancels its requests and their sockets close, but pinned buffers and provided-buffer
    /// memory are leaked on purpose, since that thread's io-wq workers may still write into them. Dispose on the thread
    /// that ran the loop (or with <see cref="LoopGroup"/>, which does) to avoid both.
    /// </remarks>
    public void Dispose()
    {
        if (RequestDispose(asynchronous: false) is { } runExited) runExited.Wait();
    }

    /// <summary>
    /// Disposes the loop without blocking the caller: the asynchronous form of <see cref="Dispose"/>, for a loop that
    /// runs on another thread (a <see cref="LoopGroup"/>'s, or one started with <c>Task.Run(loop.Run)</c>): the loop is
    /// stopped and woken, and the returned task completes once that thread has left the loop and released everything.
    /// When the loop is not running, or from a callback, it behaves as <see cref="Dispose"/> and completes at once.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        var exited = RequestDispose(asynchronous: true);
        return exited is null ? ValueTask.CompletedTask : new ValueTask(_runExitedTask!.Task);
    }

    /// <summary>
    /// Starts disposal; returns the event to wait on when another thread runs the loop (it disposes the loop as it
    /// leaves), null when disposal is done (or is left to the current callback's Exit).
    /// </summary>
    private ManualResetEventSlim? RequestDispose(bool asynchronous)
    {
        int running;
        lock (_stateLock)
        {
            if (_disposeRequested) return null;
            _disposeRequested = true;
            running = _runningThread;
            if (running != 0 && running != Environment.CurrentManagedThreadId)
            {
                _runExited ??= new ManualResetEventSlim(false);
                if (asynchronous) _runExitedTask ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        GC.SuppressFinalize(this);
        LoopMeter.Unregister(Metrics);
        if (running == 0) { DisposeCore(); return null; }
        Interlocked.Exchange(ref _stopRequested, 1);
        if (running == Environment.CurrentManagedThreadId) return null;      // Exit() disposes
        WakeIfAlive();
        return _runExited;
    }

    private void DisposeCore()
    {
        lock (_stateLock)
        {
            if (_disposed) return;
            lock (_postLock) _disposed = true;
        }
        // No new wake can start now (they are decided under the post lock); let those already started finish their
        // eventfd write before the backend closes the fd.
        SpinWait.SpinUntil(() => Volatile.Read(ref _wakesInFlight) == 0);
        // From here on, what disposal settles on this thread is deferred and run by the drain below.
        _drainingThread = Environment.CurrentManagedThreadId;
        Exception? disposeError = null;
        try
        {
            DisposeAdaptors();
            // The model's half of the seam settles what it owns (reactor: pending readiness waits fail and watchers
            // go inactive; proactor: every kernel operation is cancelled and its own completion awaited), then the
            // backend releases its kernel resources.
            try { Driver.Dispose(); }
            finally { Backend.Dispose(); }
            disposeError = Driver.TakeDisposeErrors();
        }
        finally
        {
            // Components on the loop (LinuxEvent.Net streams, listeners, connects) settle the awaits nothing else will
            // settle now and close what they own; their continuations run in the drain below. After the backend: the
            // proactor has settled those with operations in flight, whose fds must stay open until the kernel saw them.
            ReleaseComponents();
            FailPendingDelays();
            _timers.Clear();
            // Settlements during disposal (cancelled operations, failed awaits) queue continuations on the ready ring,
            // and continuations completed elsewhere (Task.Delay, other threads) arrive as internal posts: run both here,
            // on this thread, so awaiting code resumes (with its OperationCanceledException/ObjectDisposedException)
            // and nothing runs concurrently with it. Bounded; the rest is handed to one thread-pool work item, in order.
            try
            {
                for (int round = 0; round < 64 && (_readyCount > 0 || _postCount > 0); round++)
                {
                    DrainPosts();
                    RunDeferred();
                }
            }
            finally
            {
                _pendingErrors = null;
                HandOffLeftovers();
                _drainingThread = 0;
            }
        }
        if (disposeError is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(disposeError).Throw();
    }

    /// <summary>Completes every pending <see cref="DelayAsync"/> with <see cref="ObjectDisposedException"/>: disposal drops timers.</summary>
    private void FailPendingDelays()
    {
        foreach (var t in _timers.Snapshot())
            if (t.CallbackState is AsyncOp { Kind: AsyncKind.Delay, IsPending: true } op)
                op.Fail(new ObjectDisposedException(GetType().Name, "The loop was disposed while the delay was pending."));
    }
}
