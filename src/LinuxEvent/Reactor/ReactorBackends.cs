using LinuxEvent.Native;

namespace LinuxEvent.Reactor;

/// <summary>What a readiness backend must do for <see cref="ReactorLoop"/>: an epoll-shaped interface.</summary>
internal abstract class ReactorBackendBase : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Registers/modifies/removes a user fd (epoll_ctl semantics). Returns 0 or an errno.</summary>
    public abstract int Control(int op, int fd, uint events, ulong data);

    /// <summary>Watches an fd the loop owns (signalfd, pidfd) for readability: always a real kernel fd.</summary>
    public abstract InternalWatch WatchReadable(int fd, Action<object?> callback, object? state);

    /// <summary>True if <paramref name="fd"/> is one of the loop's own watched fds.</summary>
    public abstract bool IsInternalFd(int fd);

    /// <summary>Waits up to timeoutNs (-1 = no limit) and calls <see cref="ReactorLoop.Dispatch"/> per report.</summary>
    public abstract void Wait(long timeoutNs);

    /// <summary>Thread-safe wakeup of <see cref="Wait"/>.</summary>
    public abstract void Wake();

    /// <summary>True when reports are queued that need no kernel wait (Fake only).</summary>
    public virtual bool HasQueuedEvents => false;

    public abstract void Dispose();
}

/// <summary>epoll: one epoll fd and one eventfd for cross-thread wakeups, both O_CLOEXEC.</summary>
internal sealed class EpollReactorBackend : ReactorBackendBase
{
    private readonly ReactorLoop _loop;
    private readonly Epoll _epoll;
    private readonly EventFd _wake;
    private readonly InternalWatchTable _internal;

    public EpollReactorBackend(ReactorLoop loop, int maxEvents)
    {
        _loop = loop;
        _epoll = new Epoll(maxEvents);
        _internal = new InternalWatchTable(loop, _epoll, ReactorLoop.InternalBit);
        try
        {
            _wake = new EventFd();
            int err = _epoll.Control(Libc.EPOLL_CTL_ADD, _wake.Fd, Libc.EPOLLIN, ReactorLoop.WakeData);
            if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={_wake.Fd})");
        }
        catch
        {
            _wake?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    public override string Name => "epoll";
    public override int Control(int op, int fd, uint events, ulong data) => _epoll.Control(op, fd, events, data);
    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _internal.Add(fd, callback, state);
    public override bool IsInternalFd(int fd) => _internal.Contains(fd);

    public override void Wait(long timeoutNs)
    {
        int n = _epoll.Wait(timeoutNs);
        _loop.OnWaitReturned();
        for (int i = 0; i < n; i++)
        {
            ulong data = _epoll.DataAt(i);
            if (data == ReactorLoop.WakeData) _wake.Drain();
            else if (!_internal.TryDispatch(data)) _loop.Dispatch(data, _epoll.EventsAt(i));
        }
    }

    public override void Wake() => _wake.Signal();

    public override void Dispose()
    {
        _internal.Clear();
        _epoll.Dispose();
        _wake.Dispose();
    }
}

/// <summary>
/// Deterministic readiness: user fds are never given to the kernel; a test injects readiness through
/// <see cref="FakeReadiness"/>, and the clock is virtual. The loop's own fds (wake eventfd, signalfd, pidfd) live in
/// a real <see cref="Fakes.SideChannel"/>, polled without blocking except when nothing else could ever happen (no
/// injected report, no timer): then it blocks, so a Post from another thread still wakes the loop.
/// </summary>
internal sealed class FakeReactorBackend : ReactorBackendBase
{
    private readonly ReactorLoop _loop;
    private readonly Dictionary<int, (uint Events, ulong Data)> _registered = new();
    private readonly Queue<(int Fd, uint Events)> _injected = new();
    private readonly HashSet<int> _disarmed = new();

    public FakeReactorBackend(ReactorLoop loop)
    {
        _loop = loop;
        Side = new Fakes.SideChannel(loop);
        Controls = new FakeReadiness(this, loop);
    }

    public Fakes.SideChannel Side { get; }

    public FakeReadiness Controls { get; }

    /// <summary>Starts at 1 s so that deadlines computed as "now minus something" stay positive.</summary>
    public long VirtualNow { get; set; } = 1_000_000_000L;

    public override string Name => "fake";
    public override bool HasQueuedEvents => _injected.Count > 0;

    public override int Control(int op, int fd, uint events, ulong data)
    {
        switch (op)
        {
            case Libc.EPOLL_CTL_ADD:
                if (_registered.ContainsKey(fd)) return Errno.EEXIST;
                _registered[fd] = (events, data);
                _disarmed.Remove(fd);
                return 0;
            case Libc.EPOLL_CTL_MOD:
                if (!_registered.ContainsKey(fd)) return Errno.ENOENT;
                _registered[fd] = (events, data);
                _disarmed.Remove(fd);
                return 0;
            case Libc.EPOLL_CTL_DEL:
                _disarmed.Remove(fd);
                return _registered.Remove(fd) ? 0 : Errno.ENOENT;
            default:
                return Errno.EINVAL;
        }
    }

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => Side.WatchReadable(fd, callback, state);
    public override bool IsInternalFd(int fd) => Side.IsWatched(fd);

    public bool IsRegistered(int fd, out uint events)
    {
        bool found = _registered.TryGetValue(fd, out var r);
        events = r.Events;
        return found;
    }

    public void Inject(int fd, uint events) => _injected.Enqueue((fd, events));

    public override void Wait(long timeoutNs)
    {
        VirtualNow = Side.WaitVirtually(VirtualNow, _injected.Count > 0 ? 0 : timeoutNs);
        _loop.OnWaitReturned();

        // Deliver only what was injected before this wait; reports injected by these callbacks come next iteration.
        int count = _injected.Count;
        for (int i = 0; i < count; i++)
        {
            var (fd, ev) = _injected.Dequeue();
            if (!_registered.TryGetValue(fd, out var reg)) continue;
            // Like the kernel: interest filters IN/OUT, while ERR and HUP are always reported.
            uint deliver = ev & (reg.Events | Libc.EPOLLERR | Libc.EPOLLHUP | Libc.EPOLLRDHUP);
            if (deliver == 0) continue;
            // EPOLLONESHOT: one report, then disarmed until EPOLL_CTL_MOD re-arms it.
            if ((reg.Events & Libc.EPOLLONESHOT) != 0 && !_disarmed.Add(fd)) continue;
            _loop.Dispatch(reg.Data, deliver);
        }
    }

    public override void Wake() => Side.Wake();

    public override void Dispose()
    {
        _registered.Clear();
        _injected.Clear();
        _disarmed.Clear();
        Side.Dispose();
    }
}
