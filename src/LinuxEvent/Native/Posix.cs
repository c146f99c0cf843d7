using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>
/// Thin, safe wrappers over the POSIX calls a reactor callback needs (read, write, recv, send, pipes, socket pairs,
/// spawning). The <c>Try*</c> forms never throw on kernel errors: they return the byte count, or <c>-errno</c>
/// (e.g. <c>-11</c> for EAGAIN), so hot paths need no exception handling. The other forms throw
/// <see cref="LinuxEventException"/> naming the call, fd and errno. Every fd created here is close-on-exec.
/// </summary>
public static unsafe class Posix
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
    /// <exception cref="LinuxEventException">A socket call failed (the call and errno are named); nothing stays open.</exception>
    public static (int A, int B) LoopbackTcpPair()
    {
        int listener = CreateTcpListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), backlog: 1);
        int client = -1;
        try
        {
            client = StartTcpConnect((System.Net.IPEndPoint)GetLocalEndPoint(listener)!, out int errno);
            if (client < 0) throw new LinuxEventException(errno, "connect(127.0.0.1)");
            SetNonBlocking(listener, false);                      // accept4 waits for the handshake in progress
            int server = TryAccept(listener);
            if (server < 0) throw new LinuxEventException(-server, $"accept4(fd={listener})");
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
        if (Libc.SocketPair(Libc.AF_UNIX, type, 0, sv) != 0) throw new LinuxEventException(Libc.LastErrno, "socketpair(AF_UNIX, SOCK_STREAM)");
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

    /// <summary>Sets an int socket option (SOL_SOCKET/IPPROTO_TCP level constants as in the C headers).</summary>
    public static void SetSocketOption(int socket, int level, int name, int value)
    {
        if (Libc.SetSockOpt(socket, level, name, &value, sizeof(int)) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"setsockopt(fd={socket}, level={level}, name={name})");
    }

    /// <summary>Reads an int socket option.</summary>
    public static int GetSocketOption(int socket, int level, int name)
    {
        int value = 0, len = sizeof(int);
        if (Libc.GetSockOpt(socket, level, name, &value, &len) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"getsockopt(fd={socket}, level={level}, name={name})");
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
        if (fd < 0) throw new LinuxEventException(Libc.LastErrno, "socket(SOCK_STREAM)");
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
        if (fd < 0) throw new LinuxEventException(Libc.LastErrno, $"socket({family}, SOCK_STREAM)");
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
        if (Libc.Bind(fd, addr, len) != 0) throw new LinuxEventException(Libc.LastErrno, $"bind(fd={fd}, {endpoint})");
        if (Libc.Listen(fd, backlog) != 0) throw new LinuxEventException(Libc.LastErrno, $"listen(fd={fd}, backlog={backlog})");
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
        if (fd < 0) throw new LinuxEventException(Libc.LastErrno, "socket(SOCK_STREAM)");
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
        if (Libc.GetSockName(socket, addr, &len) != 0) throw new LinuxEventException(Libc.LastErrno, $"getsockname(fd={socket})");
        return SockAddr.Read(new ReadOnlySpan<byte>(addr, len), len);
    }

    /// <summary>The peer's address (getpeername).</summary>
    public static System.Net.EndPoint? GetRemoteEndPoint(int socket)
    {
        byte* addr = stackalloc byte[SockAddr.MaxSize];
        int len = SockAddr.MaxSize;
        if (Libc.GetPeerName(socket, addr, &len) != 0) throw new LinuxEventException(Libc.LastErrno, $"getpeername(fd={socket})");
        return SockAddr.Read(new ReadOnlySpan<byte>(addr, len), len);
    }

    /// <summary>Sets TCP_NODELAY (disable Nagle), as latency-sensitive servers do on accepted sockets.</summary>
    public static void SetTcpNoDelay(int socket, bool noDelay = true) => SetSocketOption(socket, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, noDelay ? 1 : 0);

    /// <summary>shutdown(2): 0 = read side, 1 = write side, 2 = both.</summary>
    public static void Shutdown(int socket, int how)
    {
        if (Libc.Shutdown(socket, how) != 0) throw new LinuxEventException(Libc.LastErrno, $"shutdown(fd={socket}, how={how})");
    }

    /// <summary>
    /// Pins the calling thread to CPU <paramref name="cpu"/> (sched_setaffinity on the thread's tid). Use it from the
    /// thread that runs a loop to keep its caches warm and its interrupts local.
    /// </summary>
    public static void PinCurrentThreadToCpu(int cpu)
    {
        if (cpu < 0 || cpu >= Libc.CpuSetBytes * 8)
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "Posix.PinCurrentThreadToCpu: CPU numbers are 0..1023.");
        byte* mask = stackalloc byte[Libc.CpuSetBytes];
        new Span<byte>(mask, Libc.CpuSetBytes).Clear();
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        if (Libc.SchedSetAffinity(0, Libc.CpuSetBytes, mask) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"sched_setaffinity(tid=self, cpu={cpu})");
    }

    /// <summary>kill(2).</summary>
    public static void Kill(int pid, int signal)
    {
        if (Libc.Kill(pid, signal) != 0) throw new LinuxEventException(Libc.LastErrno, $"kill(pid={pid}, sig={signal})");
    }

    /// <summary>getpid(2).</summary>
    public static int GetProcessId() => Libc.GetPid();

    /// <summary>
    /// Starts <paramref name="program"/> with posix_spawnp (PATH search; never fork in a .NET process). The child
    /// gets an empty signal mask and default dispositions for every catchable signal, whatever this process blocks or
    /// handles. <paramref name="fdMap"/> pairs (parentFd, childFd) are dup2'ed in the child; all other fds of this
    /// library are close-on-exec. Returns the pid; the caller reaps it (e.g. <see cref="Loop.WatchProcess"/>).
    /// </summary>
    /// <param name="program">File name (searched in PATH) or path.</param>
    /// <param name="arguments">argv[1..]; argv[0] is <paramref name="program"/>.</param>
    /// <param name="environment">Full environment as KEY=VALUE; null inherits this process's environment.</param>
    /// <param name="workingDirectory">Child's working directory; null inherits.</param>
    /// <param name="fdMap">fds to install in the child (e.g. a pipe end as 0, 1 or 2).</param>
    /// <param name="newProcessGroup">Put the child in its own process group (setpgid(0,0)).</param>
    /// <exception cref="LinuxEventException">posix_spawnp failed, e.g. ENOENT for a missing program (reported by the
    /// spawn itself, not as a silent exit code 127).</exception>
    public static int Spawn(string program, IReadOnlyList<string> arguments, IReadOnlyList<string>? environment = null,
        string? workingDirectory = null, IReadOnlyList<(int ParentFd, int ChildFd)>? fdMap = null, bool newProcessGroup = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        ArgumentNullException.ThrowIfNull(arguments);
        var strings = new List<nint>();
        try
        {
            nint Str(string s)
            {
                int len = Encoding.UTF8.GetByteCount(s);
                byte* b = (byte*)NativeMemory.Alloc((nuint)len + 1);
                Encoding.UTF8.GetBytes(s, new Span<byte>(b, len));
                b[len] = 0;
                strings.Add((nint)b);
                return (nint)b;
            }
            byte** argv = (byte**)NativeMemory.AllocZeroed((nuint)(arguments.Count + 2), (nuint)sizeof(nint));
            strings.Add((nint)argv);
            argv[0] = (byte*)Str(program);
            for (int i = 0; i < arguments.Count; i++) argv[i + 1] = (byte*)Str(arguments[i] ?? throw new ArgumentException("Posix.Spawn: an argument is null.", nameof(arguments)));
            byte** envp;
            if (environment is null)
            {
                var env = Environment.GetEnvironmentVariables();
                envp = (byte**)NativeMemory.AllocZeroed((nuint)(env.Count + 1), (nuint)sizeof(nint));
                strings.Add((nint)envp);
                int k = 0;
                foreach (System.Collections.DictionaryEntry e in env) envp[k++] = (byte*)Str($"{e.Key}={e.Value}");
            }
            else
            {
                envp = (byte**)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(nint));
                strings.Add((nint)envp);
                for (int i = 0; i < environment.Count; i++) envp[i] = (byte*)Str(environment[i]);
            }

            byte* fa = stackalloc byte[Libc.SpawnBlobBytes];
            byte* attr = stackalloc byte[Libc.SpawnBlobBytes];
            int rc = Libc.SpawnFileActionsInit(fa);
            if (rc != 0) throw new LinuxEventException(rc, "posix_spawn_file_actions_init");
            rc = Libc.SpawnAttrInit(attr);
            if (rc != 0) { Libc.SpawnFileActionsDestroy(fa); throw new LinuxEventException(rc, "posix_spawnattr_init"); }
            try
            {
                if (fdMap is not null)
                    foreach (var (parent, child) in fdMap)
                    {
                        // dup2 clears FD_CLOEXEC on the new fd; when parent == child dup2 is a no-op that would leave
                        // the flag set, so glibc (2.29+) special-cases it, which we rely on.
                        rc = Libc.SpawnFileActionsAddDup2(fa, parent, child);
                        if (rc != 0) throw new LinuxEventException(rc, $"posix_spawn_file_actions_adddup2({parent}, {child})");
                    }
                if (workingDirectory is not null)
                {
                    rc = Libc.SpawnFileActionsAddChdir(fa, (byte*)Str(workingDirectory));
                    if (rc != 0) throw new LinuxEventException(rc, "posix_spawn_file_actions_addchdir_np");
                }
                byte* empty = stackalloc byte[Libc.SigSetBytes];
                byte* all = stackalloc byte[Libc.SigSetBytes];
                Libc.SigEmptySet(empty);
                Libc.SigFillSet(all);
                Libc.SigDelSet(all, 9);
                Libc.SigDelSet(all, 19);
                Libc.SpawnAttrSetSigMask(attr, empty);
                Libc.SpawnAttrSetSigDefault(attr, all);
                short flags = Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF;
                if (newProcessGroup) { flags |= Libc.POSIX_SPAWN_SETPGROUP; Libc.SpawnAttrSetPgroup(attr, 0); }
                Libc.SpawnAttrSetFlags(attr, flags);
                int pid;
                rc = Libc.PosixSpawnp(&pid, argv[0], fa, attr, argv, envp);
                if (rc != 0)
                    throw new LinuxEventException(rc, $"posix_spawnp({program})", rc == Errno.ENOENT ? $"'{program}' was not found (PATH searched)." : null);
                return pid;
            }
            finally
            {
                Libc.SpawnAttrDestroy(attr);
                Libc.SpawnFileActionsDestroy(fa);
            }
        }
        finally
        {
            foreach (var p in strings) NativeMemory.Free((void*)p);
        }
    }
}
