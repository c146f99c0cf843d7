namespace LinuxEvent.Net;

/// <summary>
/// Runs child processes with at most <see cref="MaxConcurrent"/> alive at once; the rest wait in FIFO order. A slot
/// frees when a child's exit is reported. Loop-thread only.
/// </summary>
public sealed class ProcessPool
{
    private readonly Loop _loop;
    private readonly Queue<(ChildProcess Child, Action<ChildProcess>? OnStarted)> _queue = new();
    private int _max;
    private bool _pumpScheduled;

    /// <summary>Creates a pool on <paramref name="loop"/>.</summary>
    public ProcessPool(Loop loop, int maxConcurrent)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrent, 1);
        _loop = loop;
        _max = maxConcurrent;
    }

    /// <summary>Most children alive at once. Raising it starts queued children (from the loop's deferred phase).</summary>
    public int MaxConcurrent
    {
        get => _max;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _max = value;
            SchedulePump();
        }
    }

    /// <summary>Children started and not yet reported as exited.</summary>
    public int Running { get; private set; }

    /// <summary>Children waiting for a slot.</summary>
    public int Queued => _queue.Count;

    /// <summary>
    /// Queues <paramref name="spec"/>; it starts (from the loop's deferred phase) when a slot is free.
    /// <paramref name="onStarted"/> runs right after the spawn — wire the pipe streams there. A spawn failure goes to
    /// <see cref="ChildProcess.OnStartError"/> (or the loop's handler) and frees the slot.
    /// </summary>
    public ChildProcess Enqueue(ProcessSpec spec, Action<ChildProcess>? onStarted = null, Action<ChildProcess, ProcessExit>? onExit = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var child = ChildProcess.CreateQueued(_loop, spec, this);
        child.OnExit = onExit;
        _queue.Enqueue((child, onStarted));
        SchedulePump();
        return child;
    }

    /// <summary>
    /// Cancels every queued child (none of them starts): each one's <see cref="ChildProcess.StartError"/> becomes an
    /// <see cref="OperationCanceledException"/>, reported like a failed spawn (its <see cref="ChildProcess.OnStartError"/>
    /// and a faulted <see cref="ChildProcess.Completion"/>). Running children are not touched. Returns how many were
    /// cancelled. Loop thread.
    /// </summary>
    public int CancelQueued()
    {
        _loop.CheckLoopThread("ProcessPool.CancelQueued");
        int n = 0;
        while (_queue.Count > 0)
        {
            var (child, _) = _queue.Dequeue();
            child.Pool = null;
            child.FailStart(new OperationCanceledException("ProcessPool.CancelQueued: the child was cancelled before it started."));
            n++;
        }
        CheckDrained();
        return n;
    }

    /// <summary>
    /// A task that completes once no child is running or queued (at once if none is), after the exits have been
    /// reported; with <paramref name="cancelQueued"/> the queued children are cancelled first (<see cref="CancelQueued"/>),
    /// so only the running ones are waited for. Also <see cref="OnDrained"/> runs then. Loop thread.
    /// </summary>
    public Task DrainAsync(bool cancelQueued = false)
    {
        _loop.CheckLoopThread("ProcessPool.DrainAsync");
        if (cancelQueued) CancelQueued();
        if (Running == 0 && _queue.Count == 0) return Task.CompletedTask;
        _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _drained.Task;
    }

    /// <summary>Runs on the loop thread each time the pool becomes idle (nothing running, nothing queued).</summary>
    public Action<ProcessPool>? OnDrained { get; set; }

    private TaskCompletionSource? _drained;

    private void CheckDrained()
    {
        if (Running != 0 || _queue.Count != 0) return;
        var drained = _drained;
        _drained = null;
        drained?.TrySetResult();
        if (OnDrained is { } callback)
        {
            try { callback(this); } catch (Exception ex) { _loop.ReportException(ex); }
        }
    }

    internal void OnChildFinished(ChildProcess child)
    {
        child.Pool = null;
        Running--;
        SchedulePump();
        CheckDrained();
    }

    private void SchedulePump()
    {
        if (_pumpScheduled || _queue.Count == 0) return;
        _pumpScheduled = true;
        _loop.Defer(static s => ((ProcessPool)s!).Pump(), this);
    }

    private void Pump()
    {
        _pumpScheduled = false;
        if (_loop.IsDisposed) return;          // queued children of a disposed loop are never started
        while (Running < _max && _queue.Count > 0)
        {
            var (child, onStarted) = _queue.Dequeue();
            try
            {
                child.Spawn();
            }
            catch (Exception ex)
            {
                child.Pool = null;
                child.FailStart(ex);
                continue;
            }
            Running++;
            if (onStarted is not null)
            {
                try { onStarted(child); } catch (Exception ex) { _loop.ReportException(ex); }
            }
        }
        CheckDrained();                        // every queued spawn may have failed
    }
}
