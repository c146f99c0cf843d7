using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary>
/// Source-generated bindings to glibc and raw syscalls. This folder is the only place that talks to the
/// kernel. Every call sets errno for <see cref="Marshal.GetLastPInvokeError"/>; callers turn a -1 into a
/// <see cref="LinuxEventException"/> naming the call. Raw fds (ints) are used on purpose: SafeHandle
/// marshaling on every call costs measurable time on hot paths, so handles stay at the API edge.
/// </summary>
internal static unsafe partial class Libc
{
    private const string C = "libc";

    // ---- constants (asm-generic values, identical on x86-64 and arm64 unless noted) ----
    public const int O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2,
        O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400;
    public const int F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1, F_DUPFD_CLOEXEC = 1030;
    public const int EPOLL_CLOEXEC = O_CLOEXEC, EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLEXCLUSIVE = 1u << 28, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;
    public const int EFD_CLOEXEC = O_CLOEXEC, EFD_NONBLOCK = O_NONBLOCK, EFD_SEMAPHORE = 1;
    public const int TFD_CLOEXEC = O_CLOEXEC, TFD_NONBLOCK = O_NONBLOCK, TFD_TIMER_ABSTIME = 1;
    public const int SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK;
    public const int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1;
    public const int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
    public const int P_PIDFD = 3, WEXITED = 4, WNOHANG = 1, WNOWAIT = 0x01000000;
    public const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;
    public const int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
    /// <summary>struct pollfd (int fd; short events; short revents), the same on every Linux ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }
    public const short POLLIN = 0x001, POLLOUT = 0x004, POLLERR = 0x008, POLLHUP = 0x010, POLLNVAL = 0x020, POLLRDHUP = 0x2000;
    public const int SOCK_STREAM_TYPE = 1, SO_PROTOCOL = 38, SO_DOMAIN = 39;

    public const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_REUSEPORT = 15;
    public const int IPPROTO_TCP = 6, TCP_NODELAY = 1, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    public const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    public const int MSG_NOSIGNAL = 0x4000, MSG_DONTWAIT = 0x40;
    public const int SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2;
    public const int POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETPGROUP = 0x02;
    public const int RLIMIT_NOFILE = 7;
    public const int SigSetBytes = 128;          // glibc sigset_t
    public const int KernelSigSetBytes = 8;      // _NSIG / 8 for raw syscalls

    // ---- syscall numbers: only the "unified" numbers (>= 424), identical on x86-64 and arm64 ----
    public const long SYS_io_uring_setup = 425, SYS_io_uring_enter = 426, SYS_io_uring_register = 427,
        SYS_pidfd_open = 434, SYS_pidfd_send_signal = 424, SYS_epoll_pwait2 = 441;

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec { public long tv_sec; public long tv_nsec; }

    [StructLayout(LayoutKind.Sequential)]
    public struct Itimerspec { public Timespec it_interval; public Timespec it_value; }

    [StructLayout(LayoutKind.Sequential)]
    public struct Rlimit { public ulong rlim_cur; public ulong rlim_max; }

    // ---- fds ----
    [LibraryImport(C, EntryPoint = "read", SetLastError = true)] public static partial nint Read(int fd, byte* buf, nuint count);
    [LibraryImport(C, EntryPoint = "write", SetLastError = true)] public static partial nint Write(int fd, byte* buf, nuint count);
    [LibraryImport(C, EntryPoint = "pread", SetLastError = true)] public static partial nint PRead(int fd, byte* buf, nuint count, long offset);
    [LibraryImport(C, EntryPoint = "pwrite", SetLastError = true)] public static partial nint PWrite(int fd, byte* buf, nuint count, long offset);
    [LibraryImport(C, EntryPoint = "close", SetLastError = true)] public static partial int Close(int fd);
    [LibraryImport(C, EntryPoint = "dup", SetLastError = true)] public static partial int Dup(int fd);
    [LibraryImport(C, EntryPoint = "fcntl", SetLastError = true)] public static partial int Fcntl(int fd, int cmd, int arg);
    [LibraryImport(C, EntryPoint = "pipe2", SetLastError = true)] public static partial int Pipe2(int* fds, int flags);
    [LibraryImport(C, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int Open(string path, int flags, int mode);
    [LibraryImport(C, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int Unlink(string path);
    [LibraryImport(C, EntryPoint = "splice", SetLastError = true)] public static partial nint Splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint len, uint flags);
    [LibraryImport(C, EntryPoint = "getrlimit", SetLastError = true)] public static partial int GetRlimit(int resource, Rlimit* rlim);
    [LibraryImport(C, EntryPoint = "setrlimit", SetLastError = true)] public static partial int SetRlimit(int resource, Rlimit* rlim);

    // ---- epoll ----
    [LibraryImport(C, EntryPoint = "epoll_create1", SetLastError = true)] public static partial int EpollCreate1(int flags);
    [LibraryImport(C, EntryPoint = "epoll_ctl", SetLastError = true)] public static partial int EpollCtl(int epfd, int op, int fd, byte* ev);
    [LibraryImport(C, EntryPoint = "epoll_pwait", SetLastError = true)] public static partial int EpollPwait(int epfd, byte* events, int maxevents, int timeoutMs, void* sigmask);

    /// <summary>epoll_pwait2 (Linux 5.11) through syscall(): glibc only wraps it from 2.35 on.</summary>
    public static int EpollPwait2(int epfd, byte* events, int maxevents, Timespec* timeout)
        => (int)Syscall6(SYS_epoll_pwait2, epfd, (long)events, maxevents, (long)timeout, 0, KernelSigSetBytes);

    // ---- eventfd / timerfd / signalfd ----
    [LibraryImport(C, EntryPoint = "eventfd", SetLastError = true)] public static partial int EventFd(uint initval, int flags);
    [LibraryImport(C, EntryPoint = "timerfd_create", SetLastError = true)] public static partial int TimerFdCreate(int clockid, int flags);
    [LibraryImport(C, EntryPoint = "timerfd_settime", SetLastError = true)] public static partial int TimerFdSetTime(int fd, int flags, Itimerspec* newValue, Itimerspec* oldValue);
    [LibraryImport(C, EntryPoint = "timerfd_gettime", SetLastError = true)] public static partial int TimerFdGetTime(int fd, Itimerspec* curr);
    [LibraryImport(C, EntryPoint = "signalfd", SetLastError = true)] public static partial int SignalFd(int fd, byte* mask, int flags);
    [LibraryImport(C, EntryPoint = "clock_gettime", SetLastError = true)] public static partial int ClockGetTime(int clockid, Timespec* tp);

    // ---- signals / processes ----
    [LibraryImport(C, EntryPoint = "sigemptyset", SetLastError = true)] public static partial int SigEmptySet(byte* set);
    [LibraryImport(C, EntryPoint = "sigfillset", SetLastError = true)] public static partial int SigFillSet(byte* set);
    [LibraryImport(C, EntryPoint = "sigaddset", SetLastError = true)] public static partial int SigAddSet(byte* set, int signo);
    [LibraryImport(C, EntryPoint = "sigdelset", SetLastError = true)] public static partial int SigDelSet(byte* set, int signo);
    [LibraryImport(C, EntryPoint = "sigismember", SetLastError = true)] public static partial int SigIsMember(byte* set, int signo);
    /// <summary>pthread_sigmask returns the error number instead of setting errno.</summary>
    [LibraryImport(C, EntryPoint = "pthread_sigmask")] public static partial int PthreadSigmask(int how, byte* set, byte* oldset);
    [LibraryImport(C, EntryPoint = "sigpending", SetLastError = true)] public static partial int SigPending(byte* set);
    [LibraryImport(C, EntryPoint = "kill", SetLastError = true)] public static partial int Kill(int pid, int sig);
    [LibraryImport(C, EntryPoint = "getpid")] public static partial int GetPid();
    [LibraryImport(C, EntryPoint = "gettid")] public static partial int GetTid();
    [LibraryImport(C, EntryPoint = "tgkill", SetLastError = true)] public static partial int TgKill(int tgid, int tid, int sig);
    [LibraryImport(C, EntryPoint = "waitid", SetLastError = true)] public static partial int WaitId(int idtype, int id, byte* siginfo, int options);
    public static int PidfdOpen(int pid, uint flags) => (int)Syscall2(SYS_pidfd_open, pid, flags);
    public static int PidfdSendSignal(int pidfd, int sig) => (int)Syscall6(SYS_pidfd_send_signal, pidfd, sig, 0, 0, 0, 0);

    // posix_spawn: glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 bytes on
    // 64-bit targets; callers allocate SpawnBlobBytes for each so layout changes cannot overflow.
    public const int SpawnBlobBytes = 512;
    [LibraryImport(C, EntryPoint = "posix_spawnp")] public static partial int PosixSpawnp(int* pid, byte* file, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport(C, EntryPoint = "posix_spawn")] public static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_init")] public static partial int SpawnFileActionsInit(void* fa);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_destroy")] public static partial int SpawnFileActionsDestroy(void* fa);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_adddup2")] public static partial int SpawnFileActionsAddDup2(void* fa, int fd, int newfd);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_addclose")] public static partial int SpawnFileActionsAddClose(void* fa, int fd);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_addopen")] public static partial int SpawnFileActionsAddOpen(void* fa, int fd, byte* path, int oflag, int mode);
    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_addchdir_np")] public static partial int SpawnFileActionsAddChdir(void* fa, byte* path);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_init")] public static partial int SpawnAttrInit(void* attr);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_destroy")] public static partial int SpawnAttrDestroy(void* attr);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_setflags")] public static partial int SpawnAttrSetFlags(void* attr, short flags);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_setsigmask")] public static partial int SpawnAttrSetSigMask(void* attr, byte* set);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_setsigdefault")] public static partial int SpawnAttrSetSigDefault(void* attr, byte* set);
    [LibraryImport(C, EntryPoint = "posix_spawnattr_setpgroup")] public static partial int SpawnAttrSetPgroup(void* attr, int pgroup);

    // ---- CPU affinity (a cpu_set_t of 1024 bits = 128 bytes, glibc's default size) ----
    public const int CpuSetBytes = 128;
    [LibraryImport(C, EntryPoint = "sched_setaffinity", SetLastError = true)] public static partial int SchedSetAffinity(int pid, nuint cpusetsize, byte* mask);

    // ---- sockets ----
    [LibraryImport(C, EntryPoint = "socket", SetLastError = true)] public static partial int Socket(int domain, int type, int protocol);
    [LibraryImport(C, EntryPoint = "socketpair", SetLastError = true)] public static partial int SocketPair(int domain, int type, int protocol, int* sv);
    [LibraryImport(C, EntryPoint = "bind", SetLastError = true)] public static partial int Bind(int fd, byte* addr, int len);
    [LibraryImport(C, EntryPoint = "listen", SetLastError = true)] public static partial int Listen(int fd, int backlog);
    [LibraryImport(C, EntryPoint = "accept4", SetLastError = true)] public static partial int Accept4(int fd, byte* addr, int* len, int flags);
    [LibraryImport(C, EntryPoint = "connect", SetLastError = true)] public static partial int Connect(int fd, byte* addr, int len);
    [LibraryImport(C, EntryPoint = "shutdown", SetLastError = true)] public static partial int Shutdown(int fd, int how);
    [LibraryImport(C, EntryPoint = "getsockopt", SetLastError = true)] public static partial int GetSockOpt(int fd, int level, int name, void* value, int* len);
    [LibraryImport(C, EntryPoint = "setsockopt", SetLastError = true)] public static partial int SetSockOpt(int fd, int level, int name, void* value, int len);
    [LibraryImport(C, EntryPoint = "getsockname", SetLastError = true)] public static partial int GetSockName(int fd, byte* addr, int* len);
    [LibraryImport(C, EntryPoint = "getpeername", SetLastError = true)] public static partial int GetPeerName(int fd, byte* addr, int* len);
    [LibraryImport(C, EntryPoint = "poll", SetLastError = true)] public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);
    [LibraryImport(C, EntryPoint = "recv", SetLastError = true)] public static partial nint Recv(int fd, byte* buf, nuint len, int flags);
    [LibraryImport(C, EntryPoint = "send", SetLastError = true)] public static partial nint Send(int fd, byte* buf, nuint len, int flags);

    // recvfrom/sendto numbers differ per architecture (x86-64: 45/44; arm64 and the other asm-generic ports: 207/206).
    private static readonly long s_sysRecvFrom = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 45, Architecture.Arm64 => 207, _ => -1,
    };
    private static readonly long s_sysSendTo = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 44, Architecture.Arm64 => 206, _ => -1,
    };

    /// <summary>
    /// recv(2) for hot paths: the raw recvfrom syscall through glibc's <c>syscall()</c> (same result and errno as
    /// <see cref="Recv"/>). glibc's recv/send are pthread cancellation points; in a multi-threaded process (every .NET
    /// process) each call brackets the syscall with <c>__pthread_enable/disable_asynccancel</c>, which perf showed at
    /// ~0.8% of the reactor echo server's CPU at depth 16. .NET never cancels threads, so nothing is lost.
    /// </summary>
    public static nint RecvFast(int fd, byte* buf, nuint len, int flags)
        => s_sysRecvFrom >= 0 ? (nint)Syscall6(s_sysRecvFrom, fd, (long)buf, (long)len, flags, 0, 0) : Recv(fd, buf, len, flags);

    /// <summary>send(2) for hot paths: the raw sendto syscall (see <see cref="RecvFast"/>).</summary>
    public static nint SendFast(int fd, byte* buf, nuint len, int flags)
        => s_sysSendTo >= 0 ? (nint)Syscall6(s_sysSendTo, fd, (long)buf, (long)len, flags, 0, 0) : Send(fd, buf, len, flags);

    // ---- sendmsg/recvmsg (datagrams, ancillary data) ----
    public const int MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_CMSG_CLOEXEC = 0x40000000;
    public const int SCM_RIGHTS = 1;
    /// <summary>SCM_MAX_FD (include/net/scm.h): the most fds one SCM_RIGHTS message may carry.</summary>
    public const int SCM_MAX_FD = 253;
    [LibraryImport(C, EntryPoint = "sendmsg", SetLastError = true)] public static partial nint SendMsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport(C, EntryPoint = "recvmsg", SetLastError = true)] public static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    // sendmsg/recvmsg numbers differ per architecture (x86-64: 46/47; arm64 and the other asm-generic ports: 211/212).
    private static readonly long s_sysSendMsg = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 46, Architecture.Arm64 => 211, _ => -1,
    };
    private static readonly long s_sysRecvMsg = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 47, Architecture.Arm64 => 212, _ => -1,
    };

    /// <summary>sendmsg(2) for hot paths: the raw syscall, skipping glibc's cancellation-point bracketing (see <see cref="RecvFast"/>).</summary>
    public static nint SendMsgFast(int fd, MsgHdr* msg, int flags)
        => s_sysSendMsg >= 0 ? (nint)Syscall6(s_sysSendMsg, fd, (long)msg, flags, 0, 0, 0) : SendMsg(fd, msg, flags);

    /// <summary>recvmsg(2) for hot paths: the raw syscall (see <see cref="RecvFast"/>).</summary>
    public static nint RecvMsgFast(int fd, MsgHdr* msg, int flags)
        => s_sysRecvMsg >= 0 ? (nint)Syscall6(s_sysRecvMsg, fd, (long)msg, flags, 0, 0, 0) : RecvMsg(fd, msg, flags);

    // ---- raw syscall (fixed arity: variadic calls are not portable through P/Invoke on arm64) ----
    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)] public static partial long Syscall2(long number, long a1, long a2);
    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)] public static partial long Syscall4(long number, long a1, long a2, long a3, long a4);
    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)] public static partial long Syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    // ---- memory ----
    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_POPULATE = 0x8000;
    [LibraryImport(C, EntryPoint = "mmap", SetLastError = true)] public static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport(C, EntryPoint = "munmap", SetLastError = true)] public static partial int Munmap(void* addr, nuint length);

    /// <summary>Last errno of this thread's most recent P/Invoke.</summary>
    public static int LastErrno => Marshal.GetLastPInvokeError();
}
