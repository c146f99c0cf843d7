using System.Net;

namespace LinuxEvent.Simulation;

/// <summary>
/// One simulated TCP socket: a listener, or one end of a connection with a kernel-like receive buffer. The application
/// holds a real placeholder fd (one end of a socket pair) so that the number is its own and close/shutdown work as
/// syscalls; the other end (<see cref="MonitorFd"/>) tells the simulation when the application closed or shut it.
/// </summary>
internal sealed class SimSocket
{
    public SimSocket(int id, SimHost host, SocketRole role)
    {
        Id = id;
        Host = host;
        Role = role;
        Name = "s" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Creation order in the simulation: the socket's name in the trace.</summary>
    public readonly int Id;
    public readonly string Name;
    public readonly SimHost Host;
    public SocketRole Role;

    /// <summary>The application's fd (-1 until the socket is handed out, e.g. a connection still in the backlog).</summary>
    public int Fd = -1;

    /// <summary>The other end of the placeholder's socket pair (lifecycle monitoring); -1 when none.</summary>
    public int MonitorFd = -1;

    /// <summary>The placeholder's identity ("socket:[inode]"), to tell a close from a reuse of the number.</summary>
    public string? Identity;

    public IPEndPoint? Local, Remote;
    public SimSocket? Peer;

    // ---------------------------------------------------------------- receive side
    public readonly ByteQueue Rx = new();
    public int RxCapacity;
    /// <summary>The peer's FIN arrived (RCV_SHUTDOWN).</summary>
    public bool FinReceived;
    /// <summary>The application shut down reading (SHUT_RD).</summary>
    public bool ShutRead;
    /// <summary>The application shut down writing (SHUT_WR): FIN sent after the data.</summary>
    public bool ShutWrite;
    /// <summary>The pending socket error (sk_err): reported once by the next recv/send or SO_ERROR.</summary>
    public int PendingError;
    /// <summary>The connection was reset (or refused): sends fail with EPIPE once the error was reported.</summary>
    public bool Dead;
    /// <summary>The application does not read until then (the StopReading fault); 0 = reading.</summary>
    public long StallUntil;

    // ---------------------------------------------------------------- send side
    /// <summary>Bytes sent and not yet delivered into the peer's receive buffer.</summary>
    public int InFlight;
    /// <summary>Arrival time of the last segment sent: later segments never overtake it (one TCP stream stays in order).</summary>
    public long LastArrival;
    /// <summary>A send found no room: the next freed space raises a writable edge.</summary>
    public bool WantsWritable;

    // ---------------------------------------------------------------- listener
    public readonly Queue<SimSocket> Backlog = new();
    public int BacklogLimit;

    // ---------------------------------------------------------------- lifecycle
    /// <summary>The application closed its fd.</summary>
    public bool AppClosed;
    /// <summary>The kernel let go of the socket (closed and no operation holds it): nothing more happens to it.</summary>
    public bool Released;
    /// <summary>The application's shutdown directions seen so far (to act once per direction).</summary>
    public bool SawShutWrite, SawShutRead;

    // ---------------------------------------------------------------- the reactor's view (epoll emulation)
    public bool Registered;
    public WatchOptions Interest;
    /// <summary>One-shot registration not yet fired since its last ADD/MOD.</summary>
    public bool OneShotArmed;
    /// <summary>Something happened since the last report: an edge-triggered registration gets a report.</summary>
    public bool EdgePending;

    // ---------------------------------------------------------------- the proactor's view
    /// <summary>Pending operations of the read side (receive, read, accept), the write side (send, write), and the others
    /// (connect, shutdown, close), each in submission order.</summary>
    public readonly List<Operation> Readers = new(), Writers = new(), Control = new();

    public bool HasOperations => Readers.Count > 0 || Writers.Count > 0 || Control.Count > 0;

    public bool IsConnection => Role is SocketRole.Connecting or SocketRole.Connected;

    /// <summary>Room left in the peer's receive buffer for what this socket sends (0 when not connected). A peer that is gone
    /// still "takes" bytes: they reach its host, which answers them with a reset.</summary>
    public int SendSpace => Role == SocketRole.Connected && Peer is { } p ? Math.Max(0, p.RxCapacity - p.Rx.Length - InFlight) : 0;

    /// <summary>True while the StopReading fault holds the application's reads back.</summary>
    public bool IsStalled(long now) => StallUntil > now;

    /// <summary>The readiness epoll would report now (before the interest filter).</summary>
    public Readiness Level(long now)
    {
        switch (Role)
        {
            case SocketRole.Listening:
                return Backlog.Count > 0 ? Readiness.Readable : Readiness.None;
            case SocketRole.Unbound:
                // An unconnected TCP socket polls as EPOLLOUT | EPOLLHUP (tcp_poll, TCP_CLOSE); a refused connect adds its error.
                return Readiness.Writable | Readiness.HangUp | (PendingError != 0 ? Readiness.Error : Readiness.None);
            case SocketRole.Connecting:
                return Readiness.None;
        }
        var r = Readiness.None;
        if (ShutWrite || Dead || SendSpace > 0) r |= Readiness.Writable;
        // A stalled reader (the StopReading fault) sees its socket as if the held bytes, and whatever came after them
        // (a FIN, a reset), had not arrived yet.
        if (Rx.Length > 0 && IsStalled(now)) return r;
        bool rcvShutdown = FinReceived || ShutRead || Dead;
        if (Rx.Length > 0 || rcvShutdown || PendingError != 0) r |= Readiness.Readable;
        if (rcvShutdown) r |= Readiness.ReadHangUp;
        if (PendingError != 0) r |= Readiness.Error;
        if ((rcvShutdown && ShutWrite) || Dead) r |= Readiness.HangUp;
        return r;
    }

    /// <summary>The state a stall report shows: queued bytes, flags, the loop's registration or operations.</summary>
    public string Describe()
    {
        var sb = new System.Text.StringBuilder();
        if (Rx.Length > 0) sb.Append(" rx=").Append(Rx.Length);
        if (InFlight > 0) sb.Append(" in-flight=").Append(InFlight);
        if (Backlog.Count > 0) sb.Append(" backlog=").Append(Backlog.Count);
        if (FinReceived) sb.Append(" fin-received");
        if (ShutWrite) sb.Append(" shut-wr");
        if (ShutRead) sb.Append(" shut-rd");
        if (Dead) sb.Append(" reset");
        if (WantsWritable) sb.Append(" wants-writable");
        if (Registered) sb.Append(" epoll=").Append(Interest.ToString().Replace(", ", "|", StringComparison.Ordinal)).Append(OneShotArmed ? "+armed" : "");
        if (Readers.Count + Writers.Count + Control.Count > 0)
            sb.Append(" ops=").Append(string.Join("|", Readers.Concat(Writers).Concat(Control).Select(o => o.Kind.ToString())));
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}({Host.Name} {Role}{(AppClosed ? " closed" : "")})";
}
