namespace LinuxEvent.Simulation;

/// <summary>
/// Notices what applications do to their simulated sockets' fds with plain syscalls (close, shutdown): the simulation
/// keeps the other end of each placeholder socket pair in a real epoll loop, edge-triggered, and the kernel wakes that
/// end when the application's end is closed or shut down. Polled (never blocking) after every loop iteration that ran
/// callbacks, and before a new placeholder takes an fd number, so a close is noticed at the iteration it happened in.
/// </summary>
internal sealed class FdLifecycleMonitor : IDisposable
{
    private readonly Simulator _sim;
    private readonly ReactorLoop _loop;
    private readonly List<SimSocket> _noted = new();
    private readonly Action<Watcher> _changed;
    private int _watched;

    public FdLifecycleMonitor(Simulator sim)
    {
        _sim = sim;
        _loop = Loop.CreateReactor();
        _changed = w => _noted.Add((SimSocket)w.Data!);
    }

    public void Watch(SimSocket s)
    {
        var w = _loop.Watch(s.MonitorFd, WatchOptions.Read | WatchOptions.EdgeTriggered, _changed, null);
        w.Data = s;
        _watched++;
    }

    public void Unwatch(SimSocket s)
    {
        if (_loop.Unwatch(s.MonitorFd)) _watched--;
    }

    /// <summary>Applies what happened since the last poll, in socket creation order (never the kernel's report order).</summary>
    public void Poll()
    {
        if (_watched == 0 || _loop.IsRunning) return;
        _loop.RunOnce(TimeSpan.Zero);
        if (_noted.Count == 0) return;
        _noted.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        // A copy: what Inspect does may come back here.
        var batch = _noted.ToArray();
        _noted.Clear();
        SimSocket? last = null;
        foreach (var s in batch)
        {
            if (ReferenceEquals(s, last)) continue;
            last = s;
            _sim.Inspect(s);
        }
    }

    public void Dispose() => _loop.Dispose();
}
