using LinuxEvent.Native;

namespace LinuxEvent.Fakes;

/// <summary>
/// The real kernel part of a Fake backend: an epoll set holding the loop's wake eventfd and its adaptor fds
/// (signalfd, pidfd). User I/O stays fake; these stay real so Post, Signal and WatchProcess behave as in production.
/// </summary>
internal sealed class SideChannel : IDisposable
{
    private const ulong WakeData = ulong.MaxValue;
    private readonly Loop _loop;
    private readonly Epoll _epoll;
    private readonly EventFd _wake;
    private readonly Reactor.InternalWatchTable _watches;

    public SideChannel(Loop loop)
    {
        _loop = loop;
        _epoll = new Epoll(32);
        _watches = new Reactor.InternalWatchTable(loop, _epoll, 0);
        try
        {
            _wake = new EventFd();
            int err = _epoll.Control(Libc.EPOLL_CTL_ADD, _wake.Fd, Libc.EPOLLIN, WakeData);
            if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={_wake.Fd})");
        }
        catch
        {
            _wake?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    public InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _watches.Add(fd, callback, state);

    public bool IsWatched(int fd) => _watches.Contains(fd);

    /// <summary>
    /// The fakes' "sleep": instead of waiting <paramref name="timeoutNs"/> of real time, the virtual clock jumps by it and
    /// the real fds are only polled. With no limit (-1) nothing but a post or a signal can ever arrive, so that case
    /// blocks for real. Returns the new virtual time.
    /// </summary>
    public long WaitVirtually(long virtualNow, long timeoutNs)
    {
        if (timeoutNs > 0) virtualNow = Loop.SaturatingAdd(virtualNow, timeoutNs);
        Poll(timeoutNs < 0 ? -1 : 0);
        return virtualNow;
    }

    /// <summary>Waits up to <paramref name="timeoutNs"/> (0 = poll, -1 = until a post or signal) and dispatches.</summary>
    public void Poll(long timeoutNs)
    {
        int n = _epoll.Wait(timeoutNs);
        for (int i = 0; i < n; i++)
        {
            ulong data = _epoll.DataAt(i);
            if (data == WakeData) _wake.Drain();
            else _watches.TryDispatch(data);
        }
    }

    public void Wake() => _wake.Signal();

    public void Dispose()
    {
        _watches.Clear();
        _epoll.Dispose();
        _wake.Dispose();
    }
}
