using LinuxEvent.Native;

namespace LinuxEvent.Kernel;

/// <summary>An eventfd used to wake a loop from another thread (EFD_NONBLOCK | EFD_CLOEXEC).</summary>
internal sealed unsafe class EventFd : IDisposable
{
    private int _fd;

    public EventFd()
    {
        _fd = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_fd < 0) throw new LinuxEventException(Libc.LastErrno, "eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK)");
    }

    public int Fd => _fd;

    /// <summary>Adds 1 to the counter. Thread-safe (write(2) on an eventfd is atomic).</summary>
    public void Signal()
    {
        ulong one = 1;
        int fd = Volatile.Read(ref _fd);
        if (fd < 0) return;
        // EAGAIN would mean the counter is at 2^64-2; the loop's single-outstanding-wake protocol rules that out.
        Libc.Write(fd, (byte*)&one, 8);
    }

    /// <summary>Reads and resets the counter; returns false if it was zero (EAGAIN).</summary>
    public bool Drain()
    {
        ulong value;
        return Libc.Read(_fd, (byte*)&value, 8) == 8;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.Close(fd);
    }
}
