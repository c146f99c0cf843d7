using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>Options of a <see cref="Listener"/>.</summary>
public sealed class ListenerOptions
{
    /// <summary>Shared defaults.</summary>
    public static ListenerOptions Default { get; } = new();

    /// <summary>listen(2) backlog (default 1024; the kernel caps it at net.core.somaxconn).</summary>
    public int Backlog { get; init; } = 1024;

    /// <summary>SO_REUSEADDR for TCP (default true): rebind while old connections linger in TIME_WAIT.</summary>
    public bool ReuseAddress { get; init; } = true;

    /// <summary>SO_REUSEPORT for TCP (default false): several listeners — one loop per core — share the port and the
    /// kernel spreads connections among them.</summary>
    public bool ReusePort { get; init; }

    /// <summary>
    /// For a listening socket shared by several loops (the loops of a <see cref="LoopGroup"/> accepting on one inherited
    /// or duplicated socket): one incoming connection wakes one loop instead of all of them (default false). Reactor:
    /// the socket is watched with EPOLLEXCLUSIVE; without it every loop's epoll wakes and all but one find nothing to
    /// accept (EAGAIN). Proactor: io_uring's accept already waits as an exclusive waiter (the kernel arms its internal
    /// poll with EPOLLEXCLUSIVE), so the option changes nothing there. Where each loop binds its own socket,
    /// <see cref="ReusePort"/> spreads connections instead and this is not needed.
    /// </summary>
    public bool ExclusiveWakeup { get; init; }

    /// <summary>IPV6_V6ONLY for an IPv6 endpoint (default false: <c>[::]</c> also accepts IPv4 as mapped addresses).</summary>
    public bool IPv6Only { get; init; }

    /// <summary>Most connections handed out per loop iteration (default 64), so one busy listener cannot starve the
    /// other work of its loop; the rest wait in the kernel's queue (reactor) or in the listener (proactor) for the
    /// next iteration.</summary>
    public int MaxAcceptsPerIteration { get; init; } = 64;

    /// <summary>How long accepting stops after EMFILE/ENFILE/ENOBUFS/ENOMEM (default 100 ms). A pending connection
    /// keeps the socket readable, so retrying at once would spin at 100% CPU while the process is out of fds.</summary>
    public TimeSpan ResourceErrorBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Look up each peer's address (getpeername) for <see cref="SocketConnection.RemoteEndPoint"/> (default true).</summary>
    public bool ResolvePeerEndPoint { get; init; } = true;

    /// <summary>Set TCP_NODELAY on accepted TCP sockets (default true).</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Async mode: most accepted connections queued for <see cref="Listener.AcceptAsync"/> before accepting pauses (default 64).</summary>
    public int AcceptQueueLimit { get; init; } = 64;

    internal void Validate()
    {
        if (Backlog < 0) throw new ArgumentOutOfRangeException(nameof(Backlog), Backlog, "ListenerOptions.Backlog must not be negative.");
        if (MaxAcceptsPerIteration < 1) throw new ArgumentOutOfRangeException(nameof(MaxAcceptsPerIteration), MaxAcceptsPerIteration, "ListenerOptions.MaxAcceptsPerIteration must be positive.");
        if (ResourceErrorBackoff <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ResourceErrorBackoff), ResourceErrorBackoff, "ListenerOptions.ResourceErrorBackoff must be positive.");
        if (AcceptQueueLimit < 1) throw new ArgumentOutOfRangeException(nameof(AcceptQueueLimit), AcceptQueueLimit, "ListenerOptions.AcceptQueueLimit must be positive.");
    }
}
