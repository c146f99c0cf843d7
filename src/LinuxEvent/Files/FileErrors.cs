using System.Globalization;
using LinuxEvent.Native;

namespace LinuxEvent.Files;

/// <summary>
/// The one place file-operation errors are worded, for both models: the syscall with its salient arguments
/// (<c>pread(fd=7, count=4096, offset=0)</c>), the errno, the public call that made the request, and a hint for the
/// mistakes people actually make (a directory, a closed fd, a pipe, a misaligned O_DIRECT buffer).
/// </summary>
internal static class FileErrors
{
    /// <summary>The exception for <paramref name="request"/> failing with <paramref name="errno"/>. Loop thread.</summary>
    public static LinuxEventException Create(FileRequest request, int errno)
    {
        string hint = Hint(request, errno);
        return new LinuxEventException(errno, Syscall(request), hint.Length == 0 ? request.Call : $"{request.Call}: {hint}");
    }

    /// <summary>The syscall as errors name it.</summary>
    public static string Syscall(FileRequest r) => r.Kind switch
    {
        OperationKind.Read => F($"pread(fd={r.Fd}, count={r.Length}, offset={r.Offset})"),
        OperationKind.Write => F($"pwrite(fd={r.Fd}, count={r.Length}, offset={r.Offset})"),
        OperationKind.ReadV => F($"preadv(fd={r.Fd}, iovcnt={r.Buffers?.Count ?? 0}, count={r.Length}, offset={r.Offset})"),
        OperationKind.WriteV => F($"pwritev(fd={r.Fd}, iovcnt={r.ConstBuffers?.Count ?? 0}, count={r.Length}, offset={r.Offset})"),
        OperationKind.Fsync => F($"fsync(fd={r.Fd})"),
        OperationKind.Fdatasync => F($"fdatasync(fd={r.Fd})"),
        OperationKind.OpenAt => F($"openat({Dir(r.Fd)}, \"{r.PathText}\", flags=0x{r.Flags:x})"),
        OperationKind.Statx => r.PathText is null ? F($"statx(fd={r.Fd})") : F($"statx({Dir(r.Fd)}, \"{r.PathText}\")"),
        OperationKind.Fallocate => F($"fallocate(fd={r.Fd}, mode=0x{r.Flags:x}, offset={r.Offset}, length={r.Length})"),
        OperationKind.Close => F($"close(fd={r.Fd})"),
        _ => F($"{r.Kind}(fd={r.Fd})"),
    };

    private static string Dir(int fd) => fd == Libc.AT_FDCWD ? "AT_FDCWD" : F($"dirfd={fd}");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static bool IsTransfer(OperationKind k) => k is OperationKind.Read or OperationKind.Write or OperationKind.ReadV or OperationKind.WriteV;

    private static bool IsWrite(OperationKind k) => k is OperationKind.Write or OperationKind.WriteV;

    private static string Hint(FileRequest r, int errno)
    {
        switch (errno)
        {
            case Errno.EISDIR when r.Kind == OperationKind.OpenAt:
                return "a directory cannot be opened for writing.";
            case Errno.EISDIR:
                return F($"fd {r.Fd} refers to a directory, which has no bytes to read or write.");
            case Errno.EBADF when IsTransfer(r.Kind):
                return F($"fd {r.Fd} is not an open file descriptor, or is not open for {(IsWrite(r.Kind) ? "writing" : "reading")}.");
            case Errno.EBADF when r.Kind == OperationKind.Fallocate:
                return F($"fd {r.Fd} is not an open file descriptor, or is not open for writing.");
            case Errno.EBADF:
                return F($"fd {r.Fd} is not an open file descriptor.");
            case Errno.ESPIPE:
                return F($"fd {r.Fd} is a pipe, FIFO or socket: positional I/O needs a seekable file (use ReadAsync/WriteAsync).");
            case Errno.EINVAL when IsTransfer(r.Kind) && IsDirect(r.Fd):
                return F($"fd {r.Fd} is open with O_DIRECT, so the buffer address, the length and the file offset must each be a multiple of the device's logical block size (FileStatus.DirectIoMemoryAlignment and DirectIoOffsetAlignment; usually 512 or 4096 bytes). Rent buffers from an AlignedBufferPool.");
            case Errno.EINVAL when r.Kind == OperationKind.OpenAt && (r.Flags & Libc.O_DIRECT) != 0:
                return "the file system does not support O_DIRECT (FileOpenFlags.Direct).";
            case Errno.EOPNOTSUPP when r.Kind == OperationKind.Fallocate:
                return "the file system does not support this fallocate mode.";
            default:
                return "";
        }
    }

    /// <summary>Whether <paramref name="fd"/> is open with O_DIRECT now (best effort: only asked on the error path).</summary>
    private static bool IsDirect(int fd)
    {
        int fl = fd >= 0 ? Libc.Fcntl(fd, Libc.F_GETFL, 0) : -1;
        return fl >= 0 && (fl & Libc.O_DIRECT) != 0;
    }
}
