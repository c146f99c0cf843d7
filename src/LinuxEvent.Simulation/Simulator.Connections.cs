using System.Net;

namespace LinuxEvent.Simulation;

public sealed partial class Simulator
{
    // (address, port) → listener; lookups only, never enumerated.
    private readonly Dictionary<IPEndPoint, SimSocket> _listeners = new();

    /// <summary>A listening socket on <paramref name="endpoint"/>, with a placeholder fd.</summary>
    internal int Listen(SimHost host, IPEndPoint endpoint, int backlog)
    {
        if (_listeners.ContainsKey(endpoint)) throw new LinuxEventSocketException(Errno.EADDRINUSE, $"bind({endpoint})", "A simulated socket listens there already.");
        var s = NewSocket(host, SocketRole.Listening);
        s.Local = endpoint;
        s.BacklogLimit = Math.Max(1, backlog);
        _listeners[endpoint] = s;
        int fd = AttachFd(s);
        Trace.Write($"listen {s.Name} {host.Name} {endpoint}");
        return fd;
    }

    private void UnbindListener(SimSocket s)
    {
        if (s.Local is { } ep && _listeners.TryGetValue(ep, out var cur) && ReferenceEquals(cur, s)) _listeners.Remove(ep);
    }

    /// <summary>accept4(2): the new connection's fd, or -errno.</summary>
    internal int Accept(SimSocket listener)
    {
        if (listener.Role != SocketRole.Listening) return -Errno.EINVAL;
        if (listener.Backlog.Count == 0) return -Errno.EAGAIN;
        if (_faults.Chance(Faults.AcceptEmfile))
        {
            Trace.Write($"fault emfile {listener.Name}");
            return -Errno.EMFILE;
        }
        var s = listener.Backlog.Dequeue();
        int fd = AttachFd(s);
        Trace.Write($"accept {listener.Name} -> {s.Name} (peer {s.Peer!.Name})");
        return fd;
    }

    /// <summary>connect(2) on a non-blocking socket: -EINPROGRESS (the handshake is under way), or -errno.</summary>
    internal int Connect(SimSocket s, EndPoint remote)
    {
        switch (s.Role)
        {
            case SocketRole.Connected: return -Errno.EISCONN;
            case SocketRole.Connecting: return -Errno.EALREADY;
            case SocketRole.Listening: return -Errno.EINVAL;
        }
        if (remote is not IPEndPoint ip) return -Errno.EAFNOSUPPORT;
        if (s.Dead) return -Errno.EINVAL;       // a socket whose connect failed is not reused, as with TCP
        s.Role = SocketRole.Connecting;
        s.Remote = ip;
        s.Local = new IPEndPoint(s.Host.Address, s.Host.NextEphemeralPort());
        if (_listeners.TryGetValue(ip, out var listener)) SendControl(s, s, SimEventKind.Syn, listener);
        else SendControl(s, s, SimEventKind.Refused);
        Trace.Write($"connect {s.Name} {s.Host.Name} -> {ip}");
        return -Errno.EINPROGRESS;
    }

    /// <summary>getsockopt(SO_ERROR): the pending error, cleared by reading it.</summary>
    internal int TakeSocketError(SimSocket s) => s.PendingError != 0 ? TakeError(s) : 0;

    /// <summary>shutdown(2) of one or both directions.</summary>
    internal void Shutdown(SimSocket s, bool read, bool write, string why)
    {
        bool changed = false;
        if (write && !s.ShutWrite)
        {
            s.ShutWrite = true;
            changed = true;
            if (s.Role == SocketRole.Connected && !s.Dead && s.Peer is { } peer) SendControl(s, peer, SimEventKind.Fin);
        }
        if (read && !s.ShutRead)
        {
            s.ShutRead = true;
            changed = true;
        }
        if (!changed) return;
        Trace.Write($"{why} {s.Name} {s.Host.Name}");
        Changed(s);
    }

    /// <summary>Runs a network event that became due.</summary>
    private void Fire(SimEvent e)
    {
        var t = e.Target;
        switch (e.Kind)
        {
            case SimEventKind.Data:
                Deliver(e);
                break;
            case SimEventKind.Fin:
                if (t.Released || t.Dead) return;
                t.FinReceived = true;
                Trace.Write($"fin {t.Name}");
                Changed(t);
                break;
            case SimEventKind.Rst:
                if (t.Released) return;
                Trace.Write($"rst {t.Name}");
                Reset(t);
                break;
            case SimEventKind.Window:
                // The room may be taken again by the time the update arrives: then the next read sends another.
                if (t.Released || !t.WantsWritable || t.SendSpace == 0) return;
                t.WantsWritable = false;
                Changed(t);
                break;
            case SimEventKind.Wake:
                if (t.Released) return;
                Changed(t);
                break;
            case SimEventKind.Syn:
                Syn(t, e.Listener!);
                break;
            case SimEventKind.SynAck:
                if (t.Role != SocketRole.Connecting || t.Released)
                {
                    // The client gave up meanwhile: the server's side of the connection is reset.
                    if (t.Peer is { } server) SendControl(t, server, SimEventKind.Rst);
                    return;
                }
                t.Role = SocketRole.Connected;
                Trace.Write($"connected {t.Name} <> {t.Peer!.Name}");
                Changed(t);
                break;
            case SimEventKind.Refused:
                if (t.Role != SocketRole.Connecting || t.Released) return;
                t.Role = SocketRole.Unbound;
                t.Dead = true;
                t.PendingError = Errno.ECONNREFUSED;
                Trace.Write($"refused {t.Name}");
                Changed(t);
                break;
        }
    }

    /// <summary>A connection request from <paramref name="client"/> reaches <paramref name="listener"/>.</summary>
    private void Syn(SimSocket client, SimSocket listener)
    {
        if (client.Role != SocketRole.Connecting || client.Released) return;
        if (listener.Released || listener.AppClosed || listener.Role != SocketRole.Listening)
        {
            SendControl(listener, client, SimEventKind.Refused);
            return;
        }
        if (listener.Backlog.Count >= listener.BacklogLimit)
        {
            // A full accept queue drops the SYN; the client retransmits it a second later.
            Trace.Write($"backlog-full {listener.Name} (syn from {client.Name} retried)");
            Schedule(NowNanoseconds + 1_000_000_000L, new SimEvent(SimEventKind.Syn, client) { Listener = listener });
            return;
        }
        var server = NewSocket(listener.Host, SocketRole.Connected);
        server.Local = listener.Local;
        server.Remote = client.Local;
        server.Peer = client;
        client.Peer = server;
        listener.Backlog.Enqueue(server);
        Trace.Write($"syn {listener.Name} <- {client.Name} queued {server.Name}");
        Changed(listener);
        SendControl(server, client, SimEventKind.SynAck);
    }
}
