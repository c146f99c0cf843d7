using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent;

public static unsafe partial class Posix
{
    /// <summary>sendmsg(2) with MSG_NOSIGNAL added: bytes sent or -errno. EINTR is retried.</summary>
    internal static int TrySendMessage(int socket, MsgHdr* message, int flags)
    {
        while (true)
        {
            nint n = Libc.SendMsgFast(socket, message, flags | Libc.MSG_NOSIGNAL);
            if (n >= 0) return (int)n;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>recvmsg(2): bytes received or -errno. EINTR is retried (the msghdr is re-armed by the caller per attempt;
    /// an interrupted call wrote nothing).</summary>
    internal static int TryReceiveMessage(int socket, MsgHdr* message, int flags)
    {
        while (true)
        {
            nint n = Libc.RecvMsgFast(socket, message, flags);
            if (n >= 0) return (int)n;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec datagram socket of <paramref name="family"/>: UDP for InterNetwork and
    /// InterNetworkV6, a SOCK_DGRAM Unix socket for Unix. Unbound: a UDP socket gets an ephemeral port at its first send;
    /// an unbound Unix datagram socket sends as an unnamed peer (it cannot be replied to).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="family"/> is not one of those three.</exception>
    /// <exception cref="LinuxEventException">socket(2) failed.</exception>
    public static int CreateDatagramSocket(AddressFamily family)
    {
        int domain = family switch
        {
            AddressFamily.InterNetwork => Libc.AF_INET,
            AddressFamily.InterNetworkV6 => Libc.AF_INET6,
            AddressFamily.Unix => Libc.AF_UNIX,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Posix.CreateDatagramSocket: use InterNetwork, InterNetworkV6 or Unix."),
        };
        int fd = Libc.Socket(domain, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new LinuxEventSocketException(Libc.LastErrno, $"socket({family}, SOCK_DGRAM)");
        return fd;
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec datagram socket bound to <paramref name="local"/>: an
    /// <see cref="IPEndPoint"/> (UDP; port 0 picks a free port, see <see cref="GetLocalEndPoint"/>) or a
    /// <see cref="UnixDomainSocketEndPoint"/> (a path, which must not exist yet, or an abstract name starting with '@';
    /// the caller unlinks a path when done). Nothing stays open if a step fails.
    /// </summary>
    /// <param name="local">Where to bind.</param>
    /// <param name="reuseAddress">SO_REUSEADDR.</param>
    /// <param name="reusePort">SO_REUSEPORT: several sockets (one loop per core) share the port; the kernel spreads
    /// datagrams across them by the sender's address and port.</param>
    /// <param name="ipv6Only">IPV6_V6ONLY for an IPv6 endpoint (false: an IPv6 socket also receives IPv4 as
    /// ::ffff:a.b.c.d).</param>
    /// <exception cref="ArgumentException">An endpoint of another type or family.</exception>
    /// <exception cref="LinuxEventException">socket, setsockopt or bind failed (e.g. EADDRINUSE), naming the call.</exception>
    public static int CreateBoundDatagramSocket(EndPoint local, bool reuseAddress = false, bool reusePort = false, bool ipv6Only = false)
    {
        ArgumentNullException.ThrowIfNull(local);
        var family = local switch
        {
            IPEndPoint { AddressFamily: AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 } ip => ip.AddressFamily,
            UnixDomainSocketEndPoint => AddressFamily.Unix,
            _ => throw new ArgumentException($"Posix.CreateBoundDatagramSocket: unsupported endpoint '{local}' ({local.AddressFamily}); use an IPEndPoint or a UnixDomainSocketEndPoint.", nameof(local)),
        };
        int fd = CreateDatagramSocket(family);
        try
        {
            if (family != AddressFamily.Unix)
            {
                if (reuseAddress) SetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
                if (reusePort) SetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1);
                if (family == AddressFamily.InterNetworkV6) SetSocketOption(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, ipv6Only ? 1 : 0);
            }
            Bind(fd, local);
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>bind(2) of an existing socket to <paramref name="local"/>.</summary>
    /// <exception cref="LinuxEventException">bind failed, naming the fd, the address and the errno.</exception>
    public static void Bind(int socket, EndPoint local)
    {
        ArgumentNullException.ThrowIfNull(local);
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.Write(local, new Span<byte>(addr, SockAddr.MaxSize));
        if (Libc.Bind(socket, addr, len) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"bind(fd={socket}, {local})");
    }

    /// <summary>socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC [| SOCK_NONBLOCK]): two connected, unnamed datagram
    /// sockets (message boundaries kept; SCM_RIGHTS fd passing works between them).</summary>
    public static (int A, int B) DatagramSocketPair(bool nonBlocking = true)
    {
        int* sv = stackalloc int[2];
        int type = Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC | (nonBlocking ? Libc.SOCK_NONBLOCK : 0);
        if (Libc.SocketPair(Libc.AF_UNIX, type, 0, sv) != 0) throw new LinuxEventSocketException(Libc.LastErrno, "socketpair(AF_UNIX, SOCK_DGRAM)");
        return (sv[0], sv[1]);
    }
}
