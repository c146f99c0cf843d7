using System.Runtime.InteropServices;

using LinuxEvent.Native;

namespace LinuxEvent.Kernel;

/// <summary>
/// An epoll instance plus its event buffer. <c>struct epoll_event</c> is declared
/// <c>__attribute__((packed))</c> on x86-64 only (12 bytes, data at offset 4); on arm64 and other 64-bit
/// targets it is naturally aligned (16 bytes, data at offset 8). Rather than two struct types we address a raw
/// buffer with the stride and offset of the running architecture.
/// </summary>
internal sealed unsafe class Epoll : IDisposable, Seam.InternalWatchTable.IKernel
{
    /// <summary>sizeof(struct epoll_event) on this architecture.</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;

    /// <summary>offsetof(struct epoll_event, data) on this architecture.</summary>
    public static readonly int DataOffset = EventSize == 12 ? 4 : 8;

    private static int s_pwait2 = 1;    // 1 = try epoll_pwait2, 0 = kernel lacks it (ENOSYS), use epoll_pwait

    private int _fd;
    private readonly byte* _events;
    private readonly int _max;

    public Epoll(int maxEvents)
    {
        _fd = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (_fd < 0) throw new LinuxEventException(Libc.LastErrno, "epoll_create1(EPOLL_CLOEXEC)");
        _max = maxEvents;
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(maxEvents * EventSize));
    }

    public int Fd => _fd;

    /// <summary>Replaces the epoll instance with an empty one (the caller re-adds what it needs); closes the old one.</summary>
    public void Recreate()
    {
        int fd = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (fd < 0) throw new LinuxEventException(Libc.LastErrno, "epoll_create1(EPOLL_CLOEXEC)");
        int old = Interlocked.Exchange(ref _fd, fd);
        if (old >= 0) Libc.Close(old);
    }

    /// <summary>epoll_ctl; returns 0 or the errno (callers decide which errnos are expected).</summary>
    public int Control(int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + DataOffset) = data;
        return Libc.EpollCtl(_fd, op, fd, op == Libc.EPOLL_CTL_DEL ? null : ev) == 0 ? 0 : Libc.LastErrno;
    }

    /// <summary>Internal watches live in the set level-triggered for readability, keyed by their token.</summary>
    void Seam.InternalWatchTable.IKernel.Arm(Seam.InternalWatchTable.Entry entry)
    {
        int err = Control(Libc.EPOLL_CTL_ADD, entry.Fd, Libc.EPOLLIN, entry.Token);
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={entry.Fd})");
        entry.Armed = true;
    }

    /// <summary>EPOLL_CTL_DEL takes effect at once. ENOENT/EBADF are fine: the owner may already have closed the fd,
    /// which removed it from the set.</summary>
    bool Seam.InternalWatchTable.IKernel.Disarm(Seam.InternalWatchTable.Entry entry)
    {
        if (_fd >= 0) Control(Libc.EPOLL_CTL_DEL, entry.Fd, 0, 0);
        return true;
    }

    public static string OpName(int op) => op switch { Libc.EPOLL_CTL_ADD => "ADD", Libc.EPOLL_CTL_MOD => "MOD", Libc.EPOLL_CTL_DEL => "DEL", _ => op.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>
    /// Waits up to <paramref name="timeoutNs"/> (-1 infinite). Returns the number of events, 0 on timeout or EINTR
    /// (the loop recomputes its deadline and comes back). epoll_pwait2 (5.11+) takes a timespec so a 300 µs timer
    /// sleeps 300 µs; the epoll_pwait fallback rounds up to whole milliseconds so a sub-millisecond delay never
    /// becomes a busy zero-timeout poll.
    /// </summary>
    public int Wait(long timeoutNs)
    {
        int n;
        if (s_pwait2 == 1)
        {
            Libc.Timespec ts;
            Libc.Timespec* pts = null;
            if (timeoutNs >= 0)
            {
                ts.tv_sec = timeoutNs / 1_000_000_000L;
                ts.tv_nsec = timeoutNs % 1_000_000_000L;
                pts = &ts;
            }
            n = Libc.EpollPwait2(_fd, _events, _max, pts);
            if (n >= 0) return n;
            int e = Libc.LastErrno;
            if (e == Errno.EINTR) return 0;
            if (e != Errno.ENOSYS) throw new LinuxEventException(e, $"epoll_pwait2(epfd={_fd})");
            s_pwait2 = 0;
        }
        int ms = timeoutNs < 0 ? -1 : (int)Math.Min(int.MaxValue, (timeoutNs + 999_999) / 1_000_000);
        n = Libc.EpollPwait(_fd, _events, _max, ms, null);
        if (n >= 0) return n;
        int err = Libc.LastErrno;
        if (err == Errno.EINTR) return 0;
        throw new LinuxEventException(err, $"epoll_pwait(epfd={_fd})");
    }

    public uint EventsAt(int i) => *(uint*)(_events + i * EventSize);
    public ulong DataAt(int i) => *(ulong*)(_events + i * EventSize + DataOffset);

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        Libc.Close(fd);
        NativeMemory.Free(_events);
    }
}
