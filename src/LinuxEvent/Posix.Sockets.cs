using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent;

public static unsafe partial class Posix
{
    /// <summary>Sets an int socket option (SOL_SOCKET/IPPROTO_TCP level constants as in the C headers).</summary>
    public static void SetSocketOption(int socket, int level, int name, int value)
    {
        if (Libc.SetSockOpt(socket, level, name, &value, sizeof(int)) != 0)
            throw new LinuxEventSocketException(Libc.LastErrno, $"setsockopt(fd={socket}, level={level}, name={name})");
    }

    /// <summary>Reads an int socket option.</summary>
    public static int GetSocketOption(int socket, int level, int name)
    {
        int value = 0, len = sizeof(int);
        if (Libc.GetSockOpt(socket, level, name, &value, &len) != 0)
            throw new LinuxEventSocketException(Libc.LastErrno, $"getsockopt(fd={socket}, level={level}, name={name})");
        return value;
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec TCP listening socket bound to <paramref name="endpoint"/> (port 0 picks a
    /// free port; see <see cref="GetLocalEndPoint"/>).
    /// </summary>
    /// <param name="endpoint">IPv4 or IPv6 address and port.</param>
    /// <param name="backlog">listen(2) backlog.</param>
    /// <param name="reuseAddress">SO_REUSEADDR (rebinding while old connections linger in TIME_WAIT).</param>
    /// <param name="reusePort">SO_REUSEPORT: several sockets (one loop per core) share the port; the kernel spreads connections.</param>
    /// <param name="ipv6Only">IPV6_V6ONLY for an IPv6 endpoint.</param>
    public static int CreateTcpListener(System.Net.IPEndPoint endpoint, int backlog = 1024, bool reuseAddress = true, bool reusePort = false, bool ipv6Only = false)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        int family = endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET;
        int fd = Libc.Socket(family, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new LinuxEventSocketException(Libc.LastErrno, "socket(SOCK_STREAM)");
        try
        {
            if (reuseAddress) SetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
            if (reusePort) SetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1);
            if (family == Libc.AF_INET6) SetSocketOption(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, ipv6Only ? 1 : 0);
            BindAndListen(fd, endpoint, backlog);
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec stream socket of <paramref name="family"/> (InterNetwork, InterNetworkV6
    /// or Unix), unconnected and unbound: for connecting, or for binding through a listener.
    /// </summary>
    public static int CreateStreamSocket(System.Net.Sockets.AddressFamily family)
    {
        int domain = family switch
        {
            System.Net.Sockets.AddressFamily.InterNetwork => Libc.AF_INET,
            System.Net.Sockets.AddressFamily.InterNetworkV6 => Libc.AF_INET6,
            System.Net.Sockets.AddressFamily.Unix => Libc.AF_UNIX,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Posix.CreateStreamSocket: use InterNetwork, InterNetworkV6 or Unix."),
        };
        int fd = Libc.Socket(domain, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new LinuxEventSocketException(Libc.LastErrno, $"socket({family}, SOCK_STREAM)");
        return fd;
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec Unix-domain listening socket bound to <paramref name="endpoint"/> (a path,
    /// or an abstract name starting with '@'). The caller owns the path: unlink it when done (a listener that created
    /// it should). EADDRINUSE if the path exists.
    /// </summary>
    public static int CreateUnixListener(System.Net.Sockets.UnixDomainSocketEndPoint endpoint, int backlog = 1024)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        int fd = CreateStreamSocket(System.Net.Sockets.AddressFamily.Unix);
        try
        {
            BindAndListen(fd, endpoint, backlog);
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>RLIMIT_NOFILE of this process: (soft, hard). ulong.MaxValue means unlimited.</summary>
    public static (ulong Soft, ulong Hard) GetFileLimit()
    {
        Libc.Rlimit r;
        if (Libc.GetRlimit(Libc.RLIMIT_NOFILE, &r) != 0) throw new LinuxEventException(Libc.LastErrno, "getrlimit(RLIMIT_NOFILE)");
        return (r.rlim_cur, r.rlim_max);
    }

    /// <summary>Sets RLIMIT_NOFILE of this process (raising the hard limit needs CAP_SYS_RESOURCE).</summary>
    public static void SetFileLimit(ulong soft, ulong hard)
    {
        Libc.Rlimit r = new() { rlim_cur = soft, rlim_max = hard };
        if (Libc.SetRlimit(Libc.RLIMIT_NOFILE, &r) != 0) throw new LinuxEventException(Libc.LastErrno, $"setrlimit(RLIMIT_NOFILE, soft={soft}, hard={hard})");
    }

    /// <summary>bind(2) then listen(2); the caller closes the fd if this throws.</summary>
    private static void BindAndListen(int fd, System.Net.EndPoint endpoint, int backlog)
    {
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.Write(endpoint, new Span<byte>(addr, SockAddr.MaxSize));
        if (Libc.Bind(fd, addr, len) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"bind(fd={fd}, {endpoint})");
        if (Libc.Listen(fd, backlog) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"listen(fd={fd}, backlog={backlog})");
    }

    /// <summary>accept4(SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd, or -errno (-EAGAIN when no connection is waiting). EINTR is retried.</summary>
    public static int TryAccept(int listeningSocket)
    {
        while (true)
        {
            int fd = Libc.Accept4(listeningSocket, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd >= 0) return fd;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>
    /// Creates a non-blocking, close-on-exec TCP socket and starts connecting it to <paramref name="remote"/>. Returns
    /// the fd; <paramref name="errno"/> is 0 when already connected, EINPROGRESS when the connection completes later
    /// (wait for writability, then read SO_ERROR), or the failure (the socket is then closed and -1 returned).
    /// </summary>
    public static int StartTcpConnect(System.Net.IPEndPoint remote, out int errno)
    {
        ArgumentNullException.ThrowIfNull(remote);
        int family = remote.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET;
        int fd = Libc.Socket(family, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) throw new LinuxEventSocketException(Libc.LastErrno, "socket(SOCK_STREAM)");
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.Write(remote, new Span<byte>(addr, SockAddr.MaxSize));
        int rc;
        do rc = Libc.Connect(fd, addr, len);
        while (rc != 0 && Libc.LastErrno == Errno.EINTR);
        errno = rc == 0 ? 0 : Libc.LastErrno;
        if (errno is 0 or Errno.EINPROGRESS) return fd;
        Libc.Close(fd);
        return -1;
    }

    /// <summary>
    /// connect(2) on an existing (non-blocking) socket: 0 when connected, -EINPROGRESS when the connection completes
    /// later (wait for writability, then <see cref="GetSocketError"/>), or another -errno. EINTR is retried.
    /// </summary>
    public static int TryConnect(int socket, System.Net.EndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.Write(remote, new Span<byte>(addr, SockAddr.MaxSize));
        while (true)
        {
            if (Libc.Connect(socket, addr, len) == 0) return 0;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>SO_ERROR: the pending error of a socket (0 if none), e.g. the outcome of a non-blocking connect.</summary>
    public static int GetSocketError(int socket) => GetSocketOption(socket, Libc.SOL_SOCKET, Libc.SO_ERROR);

    /// <summary>The address a socket is bound to (getsockname).</summary>
    public static System.Net.EndPoint? GetLocalEndPoint(int socket)
    {
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.MaxSize;
        if (Libc.GetSockName(socket, addr, &len) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"getsockname(fd={socket})");
        return SockAddr.Read(new ReadOnlySpan<byte>(addr, len), len);
    }

    /// <summary>The peer's address (getpeername).</summary>
    public static System.Net.EndPoint? GetRemoteEndPoint(int socket)
    {
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.MaxSize;
        if (Libc.GetPeerName(socket, addr, &len) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"getpeername(fd={socket})");
        return SockAddr.Read(new ReadOnlySpan<byte>(addr, len), len);
    }

    /// <summary>Sets TCP_NODELAY (disable Nagle), as latency-sensitive servers do on accepted sockets.</summary>
    public static void SetTcpNoDelay(int socket, bool noDelay = true) => SetSocketOption(socket, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, noDelay ? 1 : 0);

    /// <summary>shutdown(2): 0 = read side, 1 = write side, 2 = both.</summary>
    public static void Shutdown(int socket, int how)
    {
        if (Libc.Shutdown(socket, how) != 0) throw new LinuxEventSocketException(Libc.LastErrno, $"shutdown(fd={socket}, how={how})");
    }

    /// <summary>shutdown(2) of one or both directions.</summary>
    public static void Shutdown(int socket, System.Net.Sockets.SocketShutdown how) => Shutdown(socket, how switch
    {
        System.Net.Sockets.SocketShutdown.Receive => Libc.SHUT_RD,
        System.Net.Sockets.SocketShutdown.Send => Libc.SHUT_WR,
        System.Net.Sockets.SocketShutdown.Both => Libc.SHUT_RDWR,
        _ => throw new ArgumentOutOfRangeException(nameof(how), how, "Posix.Shutdown: unknown SocketShutdown."),
    });
}
