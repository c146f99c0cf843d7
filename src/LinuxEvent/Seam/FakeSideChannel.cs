using LinuxEvent.Kernel;
using LinuxEvent.Native;

namespace LinuxEvent.Seam;

/// <summary>
/// What both fake backends share: the virtual clock, and the real kernel part of a fake loop, an epoll set holding
/// the loop's wake eventfd and its adaptor fds (signalfd, pidfd). User I/O stays fake; these stay real, so
/// <see cref="Loop.Post(Action{Loop})"/>, <see cref="Loop.Signal(int, Action{Loop, SignalEvent})"/> and <see cref="Loop.WatchProcess"/> behave as in
/// production. A fake loop therefore holds two fds (epoll + eventfd) but none per watched fd or operation.
/// </summary>
internal sealed class FakeSideChannel : IDisposable
{
    private const ulong WakeData = ulong.MaxValue;
    private readonly Epoll _epoll;
    private readonly EventFd _wake;
    private readonly InternalWatchTable _watches;
    private readonly FakeClock _clock;

    public FakeSideChannel(Loop loop, FakeClock? clock)
    {
        _clock = clock ?? new FakeClock();
        _epoll = new Epoll(32);
        _watches = new InternalWatchTable(loop, tag: 0, _epoll);
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

    /// <summary>The virtual CLOCK_MONOTONIC in nanoseconds: the loop's own <see cref="FakeClock"/> (starting at 1 s, so that
    /// "now minus something" stays positive), or one shared with other fake loops.</summary>
    public long Now => _clock.NowNanoseconds;

    /// <summary>Moves the virtual clock forward (saturating).</summary>
    public void Advance(long ns) => _clock.AdvanceNanoseconds(ns);

    public InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _watches.Add(fd, callback, state);

    /// <summary>True for the side channel's own fds and the adaptor fds it watches.</summary>
    public bool OwnsFd(int fd) => fd == _epoll.Fd || fd == _wake.Fd || _watches.ContainsFd(fd);

    /// <summary>
    /// The fakes' "sleep": instead of waiting <paramref name="timeoutNs"/> of real time, the virtual clock jumps by it and
    /// the real fds are only polled. With no limit (-1) nothing but a post or a signal can ever arrive, so that case
    /// blocks for real.
    /// </summary>
    public void WaitVirtually(long timeoutNs)
    {
        if (timeoutNs > 0) Advance(timeoutNs);
        int n = _epoll.Wait(timeoutNs < 0 ? -1 : 0);
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
        _watches.ReleaseAll();
        _epoll.Dispose();
        _wake.Dispose();
    }
}
