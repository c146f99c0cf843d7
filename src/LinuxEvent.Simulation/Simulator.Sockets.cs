namespace LinuxEvent.Simulation;

public sealed partial class Simulator
{
    private readonly Dictionary<int, SimSocket> _byFd = new();     // lookups only: never enumerated
    private readonly List<SimSocket> _sockets = new();              // creation order: every walk goes through this
    private int _nextSocketId;

    internal IEnumerable<SimSocket> AllSockets() => _sockets;

    /// <summary>A new simulated socket of <paramref name="host"/> (no fd yet).</summary>
    internal SimSocket NewSocket(SimHost host, SocketRole role)
    {
        var s = new SimSocket(++_nextSocketId, host, role) { RxCapacity = NextReceiveBufferSize() };
        _sockets.Add(s);
        host.Sockets.Add(s);
        return s;
    }

    /// <summary>The simulated socket behind the application's fd, or null for a real fd.</summary>
    internal SimSocket? Find(int fd) => _byFd.TryGetValue(fd, out var s) ? s : null;

    /// <summary>
    /// Gives <paramref name="s"/> a placeholder fd: one end of a fresh socket pair (the application's), the other end
    /// watched for the application's close and shutdowns. Closes noticed so far are applied first, so the numbers a
    /// run's sockets get never decide when a close is noticed (they differ between processes; the trace must not).
    /// </summary>
    internal int AttachFd(SimSocket s)
    {
        CheckLifecycle();
        var (app, monitor) = Posix.SocketPair();
        if (_byFd.TryGetValue(app, out var stale))
        {
            // The number was free in the kernel, so the application closed the old socket; the monitor always sees
            // that first, and this is a safety net only.
            AppClose(stale);
        }
        s.Fd = app;
        s.MonitorFd = monitor;
        s.Identity = IdentityOf(app);
        _byFd[app] = s;
        _monitor.Watch(s);
        return app;
    }

    private static string? IdentityOf(int fd)
    {
        try { return new FileInfo("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget; }
        catch (IOException) { return null; }
    }

    /// <summary>Applies every close and shutdown the applications made since the last check (monitor events).</summary>
    internal void CheckLifecycle() => _monitor.Poll();

    /// <summary>The monitor saw the application end of <paramref name="s"/> change: closed, or shut down.</summary>
    internal void Inspect(SimSocket s)
    {
        if (s.AppClosed || s.Fd < 0) return;
        if (IdentityOf(s.Fd) != s.Identity)
        {
            AppClose(s);
            return;
        }
        Span<byte> probe = stackalloc byte[1];
        if (!s.SawShutWrite && Posix.TryReceive(s.MonitorFd, probe) == 0)
        {
            // EOF on our end: the application shut down its writing side (SHUT_WR or SHUT_RDWR).
            s.SawShutWrite = true;
            Shutdown(s, read: false, write: true, "shutdown(SHUT_WR)");
        }
        if (!s.SawShutRead && Posix.TrySend(s.MonitorFd, "?"u8) == -Errno.EPIPE)
        {
            // Writing to the application's end fails: it shut down its reading side (SHUT_RD or SHUT_RDWR).
            s.SawShutRead = true;
            Shutdown(s, read: true, write: false, "shutdown(SHUT_RD)");
        }
    }

    /// <summary>The application closed its fd. The socket lives on while a kernel operation still holds it.</summary>
    internal void AppClose(SimSocket s)
    {
        if (s.AppClosed) return;
        s.AppClosed = true;
        Trace.Write($"close {s.Name} {s.Host.Name}");
        ForgetSocket(s, closeAppFd: false);
        s.Registered = false;
        TryRelease(s);
    }

    /// <summary>Stops tracking the fd of <paramref name="s"/> (and closes the monitoring end).</summary>
    private void ForgetSocket(SimSocket s, bool closeAppFd)
    {
        if (s.Fd >= 0 && _byFd.TryGetValue(s.Fd, out var cur) && ReferenceEquals(cur, s)) _byFd.Remove(s.Fd);
        if (s.MonitorFd >= 0)
        {
            _monitor.Unwatch(s);
            if (closeAppFd && !s.AppClosed && IdentityOf(s.Fd) == s.Identity) Posix.CloseQuietly(s.Fd);
            Posix.CloseQuietly(s.MonitorFd);
            s.MonitorFd = -1;
        }
    }

    /// <summary>Releases a closed socket once no proactor operation holds it (io_uring keeps a file reference per request).</summary>
    internal void TryRelease(SimSocket s)
    {
        if (!s.AppClosed || s.Released) return;
        if (s.HasOperations) return;
        Release(s);
    }

    private void Release(SimSocket s)
    {
        s.Released = true;
        s.Host.Sockets.Remove(s);
        switch (s.Role)
        {
            case SocketRole.Listening:
                UnbindListener(s);
                // Connections that were never accepted are reset.
                while (s.Backlog.Count > 0)
                {
                    var pending = s.Backlog.Dequeue();
                    pending.AppClosed = pending.Released = true;
                    if (pending.Peer is { } client) SendControl(pending, client, SimEventKind.Rst);
                }
                break;
            case SocketRole.Connecting:
                s.Role = SocketRole.Unbound;
                break;
            case SocketRole.Connected when !s.Dead && s.Peer is { } peer:
                // Unread data makes close abort the connection (RST), as TCP does; otherwise the FIN goes out after the data.
                if (s.Rx.Length > 0) SendControl(s, peer, SimEventKind.Rst);
                else if (!s.ShutWrite) SendControl(s, peer, SimEventKind.Fin);
                break;
        }
        s.Rx.Release();
    }
}
