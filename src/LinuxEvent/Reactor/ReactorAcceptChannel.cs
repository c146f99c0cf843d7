namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's accept channel: a level-triggered read watcher while accepting is on; each readiness report accepts
/// until EAGAIN, <see cref="AcceptChannel.MaxPerWake"/> connections, or the owner turning accepting off (level
/// triggering reports the rest of the backlog next iteration).
/// </summary>
internal sealed class ReactorAcceptChannel(ReactorIoDriver driver, int fd, int maxPerWake, IAcceptChannelHandler handler)
    : AcceptChannel(driver.Reactor, fd, maxPerWake, handler)
{
    private static readonly Action<Watcher> s_readable = static w => ((ReactorAcceptChannel)w.Data!).OnReadable();
    private Watcher? _watcher;

    /// <summary>Watch the socket with EPOLLEXCLUSIVE (a listening socket shared by several loops). Pausing and resuming
    /// then remove and add the registration (an exclusive registration cannot be modified), which the driver does
    /// when every direction is turned off and on again.</summary>
    internal bool Exclusive { get; init; }

    private protected override void SetAcceptingCore(bool on)
    {
        IsAccepting = on;
        if (on)
        {
            if (_watcher is null || !_watcher.IsActive)
            {
                _watcher = driver.Watch(Fd, WatchOptions.Read | (Exclusive ? WatchOptions.Exclusive : 0), s_readable, null, onError: null, extraEvents: 0, "AcceptChannel");
                _watcher.Data = this;
            }
            else if (!_watcher.IsReadEnabled) _watcher.EnableRead();
        }
        else if (_watcher is { IsActive: true, IsReadEnabled: true } && !Loop.IsDisposed) _watcher.DisableRead();
    }

    private void OnReadable()
    {
        for (int i = 0; i < MaxPerWake && IsAccepting && !IsClosed; i++)
        {
            int fd = driver.Sys.Accept(Fd);           // retries EINTR itself
            if (fd >= 0)
            {
                Handler.OnAccepted(fd);
                continue;
            }
            if (fd == -Errno.EAGAIN) return;
            if (!Handler.OnAcceptFailed(-fd)) return;
        }
    }

    private protected override void CloseCore()
    {
        if (_watcher is { IsActive: true } w && !Loop.IsDisposed) w.Cancel();
        _watcher = null;
    }
}
