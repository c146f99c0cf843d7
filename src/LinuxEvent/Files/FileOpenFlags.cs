using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>
/// How <see cref="Loop.OpenAsync(string, FileOpenFlags, CancellationToken)"/> opens a file: one access mode
/// (<see cref="ReadOnly"/>, <see cref="WriteOnly"/> or <see cref="ReadWrite"/>) plus options. Mapped to the
/// architecture's <c>O_*</c> values (some differ between x86-64 and arm64). O_CLOEXEC is always added; O_NONBLOCK is
/// never needed (regular files ignore it).
/// </summary>
[Flags]
public enum FileOpenFlags
{
    /// <summary>O_RDONLY.</summary>
    ReadOnly = 0,
    /// <summary>O_WRONLY.</summary>
    WriteOnly = 1,
    /// <summary>O_RDWR.</summary>
    ReadWrite = 2,
    /// <summary>O_CREAT: create the file if it does not exist (with the mode given, minus the umask).</summary>
    Create = 1 << 2,
    /// <summary>O_EXCL: with <see cref="Create"/>, fail with EEXIST if the file exists.</summary>
    Exclusive = 1 << 3,
    /// <summary>O_TRUNC: truncate an existing regular file to length 0.</summary>
    Truncate = 1 << 4,
    /// <summary>O_APPEND: every write goes to the end of the file (positional writes too, on Linux).</summary>
    Append = 1 << 5,
    /// <summary>
    /// O_DIRECT: bypass the page cache. Buffer addresses, lengths and file offsets must be multiples of the
    /// device's logical block size (see <see cref="FileStatus.DirectIoMemoryAlignment"/>); use
    /// <see cref="AlignedBufferPool"/>. A misaligned request fails with EINVAL.
    /// </summary>
    Direct = 1 << 6,
    /// <summary>O_DSYNC: each write returns once its data (and the metadata needed to read it) is durable.</summary>
    DataSync = 1 << 7,
    /// <summary>O_SYNC: each write returns once data and all metadata are durable.</summary>
    Sync = 1 << 8,
    /// <summary>O_NOFOLLOW: fail with ELOOP if the last path component is a symbolic link.</summary>
    NoFollow = 1 << 9,
    /// <summary>O_DIRECTORY: fail with ENOTDIR unless the path is a directory.</summary>
    Directory = 1 << 10,
    /// <summary>O_NOATIME: do not update the access time (owner or CAP_FOWNER only, else EPERM).</summary>
    NoAccessTime = 1 << 11,
}

/// <summary>Conversion of <see cref="FileOpenFlags"/> to the kernel's O_* bits.</summary>
internal static class FileOpenFlagsNative
{
    private const FileOpenFlags Known = (FileOpenFlags)((1 << 12) - 1);

    /// <summary>The O_* value for <paramref name="flags"/>, always with O_CLOEXEC.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown bits, or an access mode of 3.</exception>
    public static int ToNative(FileOpenFlags flags, string call)
    {
        if ((flags & ~Known) != 0 || ((int)flags & 3) == 3)
            throw new ArgumentOutOfRangeException(nameof(flags), flags, $"{call}: unknown FileOpenFlags, or both WriteOnly and ReadWrite.");
        int o = ((int)flags & 3) | Libc.O_CLOEXEC;
        if ((flags & FileOpenFlags.Create) != 0) o |= Libc.O_CREAT;
        if ((flags & FileOpenFlags.Exclusive) != 0) o |= Libc.O_EXCL;
        if ((flags & FileOpenFlags.Truncate) != 0) o |= Libc.O_TRUNC;
        if ((flags & FileOpenFlags.Append) != 0) o |= Libc.O_APPEND;
        if ((flags & FileOpenFlags.Direct) != 0) o |= Libc.O_DIRECT;
        if ((flags & FileOpenFlags.DataSync) != 0) o |= Libc.O_DSYNC;
        if ((flags & FileOpenFlags.Sync) != 0) o |= Libc.O_SYNC;
        if ((flags & FileOpenFlags.NoFollow) != 0) o |= Libc.O_NOFOLLOW;
        if ((flags & FileOpenFlags.Directory) != 0) o |= Libc.O_DIRECTORY;
        if ((flags & FileOpenFlags.NoAccessTime) != 0) o |= Libc.O_NOATIME;
        return o;
    }
}
