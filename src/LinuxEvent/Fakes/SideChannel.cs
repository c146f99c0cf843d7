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
    private readonly Dictionary<int, Watch> _watches = new();

    public SideChannel(Loop loop)
    {
        _loop = loop;
        _epoll = new Epoll(32);
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

    private sealed class Watch(SideChannel owner, int fd, Action<object?> callback, object? state) : InternalWatch
    {
        public readonly Action<object?> Callback = callback;
        public readonly object? State = state;
        private bool _cancelled;

        public override void Cancel()
        {
            if (_cancelled) return;
            _cancelled = true;
            owner._watches.Remove(fd);
            owner._epoll.Control(Libc.EPOLL_CTL_DEL, fd, 0, 0);
        }
    }

    public InternalWatch WatchReadable(int fd, Action<object?> callback, object? state)
    {
        int err = _epoll.Control(Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, (uint)fd);
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={fd})");
        var w = new Watch(this, fd, callback, state);
        _watches[fd] = w;
        return w;
    }

    /// <summary>Waits up to <paramref name="timeoutNs"/> (0 = poll, -1 = until a post or signal) and dispatches.</summary>
    public void Poll(long timeoutNs)
    {
        int n = _epoll.Wait(timeoutNs);
        for (int i = 0; i < n; i++)
        {
            ulong data = _epoll.DataAt(i);
            if (data == WakeData) { _wake.Drain(); continue; }
            if (_watches.TryGetValue((int)data, out var w)) _loop.Invoke(w.Callback, w.State);
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
