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

    internal void OnChildFinished(ChildProcess child)
    {
        child.Pool = null;
        Running--;
        SchedulePump();
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
    }
}
