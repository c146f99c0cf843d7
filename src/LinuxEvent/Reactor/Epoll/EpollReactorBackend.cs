using LinuxEvent.Kernel;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>epoll: one epoll fd and one eventfd for cross-thread wakeups, both O_CLOEXEC.</summary>
internal sealed class EpollReactorBackend : ReactorBackendBase
{
    private readonly ReactorLoop _loop;
    private readonly Epoll _epoll;
    private readonly EventFd _wake;
    private readonly InternalWatchTable _internal;

    public EpollReactorBackend(ReactorLoop loop, ReactorIoDriver driver, int maxEvents) : base(driver)
    {
        _loop = loop;
        _epoll = new Epoll(maxEvents);
        // Internal watches carry bit 63 alone in their top byte; the wake fd's data has the whole top byte set, user
        // registrations never set bit 63.
        _internal = new InternalWatchTable(loop, ReactorIoDriver.InternalBit, _epoll);
        try
        {
            _wake = new EventFd();
            int err = _epoll.Control(Libc.EPOLL_CTL_ADD, _wake.Fd, Libc.EPOLLIN, ReactorIoDriver.WakeData);
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
    public override bool OwnsFd(int fd) => fd == _epoll.Fd || fd == _wake.Fd || _internal.ContainsFd(fd);

    public override void Wait(long timeoutNs)
    {
        int n = _epoll.Wait(timeoutNs);
        _loop.OnWaitReturned();
        for (int i = 0; i < n; i++)
        {
            ulong data = _epoll.DataAt(i);
            if (data == ReactorIoDriver.WakeData) _wake.Drain();
            else if (!_internal.TryDispatch(data)) Driver.Dispatch(data, _epoll.EventsAt(i));
        }
        if (Driver.RebuildRequested)
        {
            Driver.RebuildRequested = false;
            RebuildRegistrations();
        }
    }

    /// <summary>
    /// A fresh epoll set with the wake eventfd, the internal watches and every live watcher; the old set (and the items
    /// in it that no fd number can reach) is closed. O(registrations), and only after a zombie item was detected.
    /// </summary>
    public override void RebuildRegistrations()
    {
        _epoll.Recreate();
        int err = _epoll.Control(Libc.EPOLL_CTL_ADD, _wake.Fd, Libc.EPOLLIN, ReactorIoDriver.WakeData);
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={_wake.Fd}) rebuilding the epoll set");
        foreach (var entry in _internal.Snapshot())
            if (!entry.Cancelled) _epoll.Control(Libc.EPOLL_CTL_ADD, entry.Fd, Libc.EPOLLIN, entry.Token);
        Driver.ForEachRegistration((fd, events, data) => _epoll.Control(Libc.EPOLL_CTL_ADD, fd, events, data));
    }

    public override void Wake() => _wake.Signal();

    public override void Dispose()
    {
        _internal.ReleaseAll();
        _epoll.Dispose();
        _wake.Dispose();
    }
}
