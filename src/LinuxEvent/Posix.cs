using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>
/// Thin, safe wrappers over the POSIX calls a reactor callback needs (read, write, recv, send, pipes, socket pairs,
/// spawning). The <c>Try*</c> forms never throw on kernel errors: they return the byte count, or <c>-errno</c>
/// (e.g. <c>-11</c> for EAGAIN), so hot paths need no exception handling. The other forms throw
/// <see cref="LinuxEventException"/> (<see cref="LinuxEventSocketException"/> for socket calls) naming the call, fd and errno.
/// Every fd created here is close-on-exec.
/// </summary>
public static unsafe partial class Posix
{
    /// <summary>EAGAIN/EWOULDBLOCK (11): the non-blocking call would block.</summary>
    public const int EAGAIN = Errno.EAGAIN;
    /// <summary>EINTR (4): interrupted by a signal; retry.</summary>
    public const int EINTR = Errno.EINTR;

    /// <summary>read(2): bytes read (0 = EOF) or -errno. EINTR is retried.</summary>
    public static int TryRead(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.Read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                int e = Libc.LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }
    }

    /// <summary>write(2): bytes written or -errno. EINTR is retried.</summary>
    public static int TryWrite(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.Write(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                int e = Libc.LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }
    }

    /// <summary>recv(2): bytes received (0 = peer shut down) or -errno. EINTR is retried.</summary>
    public static int TryReceive(int socket, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.RecvFast(socket, p, (nuint)buffer.Length, 0);
                if (n >= 0) return (int)n;
                int e = Libc.LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }
    }

    /// <summary>send(2) with MSG_NOSIGNAL (a closed peer gives -EPIPE, never SIGPIPE): bytes sent or -errno. EINTR is retried.</summary>
    public static int TrySend(int socket, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.SendFast(socket, p, (nuint)buffer.Length, Libc.MSG_NOSIGNAL);
                if (n >= 0) return (int)n;
                int e = Libc.LastErrno;
                if (e != Errno.EINTR) return -e;
            }
        }
    }

    /// <summary>
    /// A connected loopback TCP pair (127.0.0.1, an ephemeral port), both ends non-blocking, close-on-exec and with
    /// TCP_NODELAY; the caller owns both fds. The TCP counterpart of <see cref="SocketPair"/>, for tests and benchmarks.
    /// </summary>
    /// <exception cref="LinuxEventSocketException">A socket call failed (the call and errno are named); nothing stays open.</exception>
    public static (int A, int B) LoopbackTcpPair()
    {
        int listener = CreateTcpListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), backlog: 1);
        int client = -1;
        try
        {
            client = StartTcpConnect((System.Net.IPEndPoint)GetLocalEndPoint(listener)!, out int errno);
            if (client < 0) throw new LinuxEventSocketException(errno, "connect(127.0.0.1)");
            SetNonBlocking(listener, false);                      // accept4 waits for the handshake in progress
            int server = TryAccept(listener);
            if (server < 0) throw new LinuxEventSocketException(-server, $"accept4(fd={listener})");
            SetTcpNoDelay(client);
            SetTcpNoDelay(server);
            int a = client;
            client = -1;
            return (a, server);
        }
        finally
        {
            if (client >= 0) Libc.Close(client);
            Libc.Close(listener);
        }
    }

    /// <summary>
    /// poll(2) with a zero timeout on one fd: the readiness bits (POLLIN, POLLOUT, POLLERR, POLLHUP...) that are set
    /// right now, or -errno. Used where an edge-triggered registration cannot tell whether a level is still present.
    /// </summary>
    internal static int TryPollNow(int fd, short events)
    {
        var pfd = new Libc.PollFd { Fd = fd, Events = events };
        while (true)
        {
            int n = Libc.Poll(&pfd, 1, 0);
            if (n >= 0) return (pfd.Revents & Libc.POLLNVAL) != 0 ? -Errno.EBADF : (ushort)pfd.Revents;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    /// <summary>Whether <paramref name="fd"/> is a SOCK_STREAM socket (TCP, Unix stream), and whether it is TCP over
    /// IPv4/IPv6; (false, false) for anything else or on error.</summary>
    internal static (bool Stream, bool Tcp) StreamSocketKind(int fd)
    {
        int type = 0, domain = 0, protocol = 0, len = sizeof(int);
        if (Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_TYPE, &type, &len) != 0 || type != Libc.SOCK_STREAM_TYPE) return (false, false);
        len = sizeof(int);
        bool inet = Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, &domain, &len) == 0 && domain is Libc.AF_INET or Libc.AF_INET6;
        len = sizeof(int);
        bool tcp = inet && Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_PROTOCOL, &protocol, &len) == 0 && protocol == Libc.IPPROTO_TCP;
        return (true, tcp);
    }

    /// <summary>read(2), throwing on errors other than EINTR (retried).</summary>
    public static int Read(int fd, Span<byte> buffer) => Check(TryRead(fd, buffer), "read", fd);

    /// <summary>write(2), throwing on errors other than EINTR (retried).</summary>
    public static int Write(int fd, ReadOnlySpan<byte> buffer) => Check(TryWrite(fd, buffer), "write", fd);

    private static int Check(int r, string call, int fd) => r >= 0 ? r : throw new LinuxEventException(-r, $"{call}(fd={fd})");

    /// <summary>
    /// close(2). On Linux the fd is released even when close reports EINTR, so EINTR is not retried (a retry could
    /// close an fd another thread just received).
    /// </summary>
    /// <exception cref="LinuxEventException">EBADF and other errors except EINTR.</exception>
    public static void Close(int fd)
    {
        if (Libc.Close(fd) == 0) return;
        int e = Libc.LastErrno;
        if (e != Errno.EINTR) throw new LinuxEventException(e, $"close(fd={fd})");
    }

    /// <summary>close(2) that never throws, for cleanup paths: returns false if the kernel refused (e.g. EBADF).</summary>
    public static bool CloseQuietly(int fd) => fd >= 0 && Libc.Close(fd) == 0;

    /// <summary>Opens /dev/null read-write, close-on-exec (e.g. for a child's stdio).</summary>
    public static int OpenDevNull()
    {
        int fd = Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw new LinuxEventException(Libc.LastErrno, "open(/dev/null, O_RDWR|O_CLOEXEC)");
        return fd;
    }

    /// <summary>pipe2(O_CLOEXEC [| O_NONBLOCK]).</summary>
    public static (int ReadFd, int WriteFd) Pipe(bool nonBlocking = true)
    {
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, Libc.O_CLOEXEC | (nonBlocking ? Libc.O_NONBLOCK : 0)) != 0) throw new LinuxEventException(Libc.LastErrno, "pipe2(O_CLOEXEC)");
        return (fds[0], fds[1]);
    }

    /// <summary>socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC [| SOCK_NONBLOCK]).</summary>
    public static (int A, int B) SocketPair(bool nonBlocking = true)
    {
        int* sv = stackalloc int[2];
        int type = Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC | (nonBlocking ? Libc.SOCK_NONBLOCK : 0);
        if (Libc.SocketPair(Libc.AF_UNIX, type, 0, sv) != 0) throw new LinuxEventSocketException(Libc.LastErrno, "socketpair(AF_UNIX, SOCK_STREAM)");
        return (sv[0], sv[1]);
    }

    /// <summary>Sets or clears O_NONBLOCK.</summary>
    public static void SetNonBlocking(int fd, bool nonBlocking)
    {
        int fl = Libc.Fcntl(fd, Libc.F_GETFL, 0);
        if (fl < 0) throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_GETFL)");
        int nfl = nonBlocking ? fl | Libc.O_NONBLOCK : fl & ~Libc.O_NONBLOCK;
        if (nfl != fl && Libc.Fcntl(fd, Libc.F_SETFL, nfl) < 0) throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_SETFL)");
    }

    /// <summary>True if <paramref name="fd"/> is open in this process.</summary>
    public static bool IsOpen(int fd) => Libc.Fcntl(fd, Libc.F_GETFD, 0) >= 0;
}
