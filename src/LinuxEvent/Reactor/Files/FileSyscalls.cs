using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent.Reactor;

/// <summary>
/// The blocking file syscalls behind the reactor's file operations, run by a worker thread
/// (<see cref="FileWorkerPool"/>) on a request whose memory is already pinned. Each returns the result, or -errno.
/// </summary>
internal static unsafe class FileSyscalls
{
    /// <summary>Performs <paramref name="r"/>. EINTR is retried (not for close: see below).</summary>
    public static int Run(FileRequest r)
    {
        if (r.Kind == OperationKind.Close)
        {
            // Linux releases the fd even when close(2) reports EINTR (the error only concerns a deferred flush); retrying
            // could close a number another thread has just been given. So EINTR is success here, as in .NET's own close.
            int rc = Libc.Close(r.Fd);
            if (rc == 0) return 0;
            int e = Libc.LastErrno;
            return e == Errno.EINTR ? 0 : -e;
        }
        while (true)
        {
            long n = Once(r);
            if (n >= 0) return (int)n;
            int e = Libc.LastErrno;
            if (e != Errno.EINTR) return -e;
        }
    }

    private static long Once(FileRequest r)
    {
        switch (r.Kind)
        {
            case OperationKind.Read:
            {
                // A read that got a prefix inline (short RWF_NOWAIT read) reads the rest here.
                int p = r.Prefix;
                long n = Libc.PRead(r.Fd, r.BufferPointer + p, (nuint)(r.Length - p), r.Offset + p);
                if (p == 0) return n;
                return n < 0 ? p : p + n;       // an error after a prefix: report the bytes read, like a short read
            }
            case OperationKind.Write:
                return Libc.PWrite(r.Fd, r.BufferPointer, (nuint)r.Length, r.Offset);
            case OperationKind.ReadV:
                return Libc.PReadV(r.Fd, r.Iov, r.IovCount, r.Offset);
            case OperationKind.WriteV:
                return Libc.PWriteV(r.Fd, r.Iov, r.IovCount, r.Offset);
            case OperationKind.Fsync:
                return Libc.Fsync(r.Fd);
            case OperationKind.Fdatasync:
                return Libc.Fdatasync(r.Fd);
            case OperationKind.Fallocate:
                return Libc.Fallocate(r.Fd, r.Flags, r.Offset, r.Length);
            case OperationKind.OpenAt:
                return Libc.OpenAt(r.Fd, r.PathPointer, r.Flags, r.Mode);
            case OperationKind.Statx:
                return Libc.Statx(r.Fd, r.PathPointer, r.Flags, (uint)r.Mode, r.BufferPointer);
            default:
                return -Errno.EINVAL;
        }
    }

    /// <summary>
    /// The reactor's page-cache fast path: preadv2(RWF_NOWAIT) on the loop thread, which returns what the page cache
    /// holds without ever waiting for the device (EAGAIN if nothing is cached at the offset, a short count if only the
    /// start is). Skipped for an O_DIRECT fd, where RWF_NOWAIT does not stop the read from waiting for the device
    /// (measured here: 178 µs per 4 KiB read, the full device latency). Returns bytes read, or -errno; -EAGAIN means
    /// "go to a worker".
    /// </summary>
    public static int TryReadCached(int fd, Span<byte> buffer, long offset)
    {
        int fl = Libc.Fcntl(fd, Libc.F_GETFL, 0);
        if (fl < 0) return -Libc.LastErrno;
        if ((fl & Libc.O_DIRECT) != 0) return -Errno.EAGAIN;
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { iov_base = p, iov_len = (nuint)buffer.Length };
            while (true)
            {
                long n = Libc.PReadV2(fd, &iov, 1, offset, Libc.RWF_NOWAIT);
                if (n >= 0) return (int)n;
                int e = Libc.LastErrno;
                if (e == Errno.EINTR) continue;
                // EOPNOTSUPP: a file system (or kernel) without RWF_NOWAIT support for reads: the worker pool does it.
                return e == Errno.EOPNOTSUPP ? -Errno.EAGAIN : -e;
            }
        }
    }
}
