using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

// File syscalls (the reactor's worker pool runs them; the proactor submits their io_uring twins).
internal static unsafe partial class Libc
{
    // open(2) flags whose values differ between x86-64 and the asm-generic ports (arm64): see
    // arch/arm64/include/uapi/asm/fcntl.h against include/uapi/asm-generic/fcntl.h.
    private static readonly bool s_arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    public static readonly int O_DIRECT = s_arm ? 0x10000 : 0x4000;
    public static readonly int O_DIRECTORY = s_arm ? 0x4000 : 0x10000;
    public static readonly int O_NOFOLLOW = s_arm ? 0x8000 : 0x20000;
    public const int O_EXCL = 0x80, O_DSYNC = 0x1000, O_SYNC = 0x101000, O_NOATIME = 0x40000;

    /// <summary>The "current directory" dirfd of the *at calls.</summary>
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;

    /// <summary>io_uring fsync flag: fdatasync instead of fsync.</summary>
    public const uint IORING_FSYNC_DATASYNC = 1;

    [LibraryImport(C, EntryPoint = "preadv", SetLastError = true)] public static partial nint PReadV(int fd, IoVec* iov, int iovcnt, long offset);
    [LibraryImport(C, EntryPoint = "pwritev", SetLastError = true)] public static partial nint PWriteV(int fd, IoVec* iov, int iovcnt, long offset);
    [LibraryImport(C, EntryPoint = "preadv2", SetLastError = true)] public static partial nint PReadV2(int fd, IoVec* iov, int iovcnt, long offset, int flags);
    [LibraryImport(C, EntryPoint = "fsync", SetLastError = true)] public static partial int Fsync(int fd);
    [LibraryImport(C, EntryPoint = "fdatasync", SetLastError = true)] public static partial int Fdatasync(int fd);
    [LibraryImport(C, EntryPoint = "fallocate", SetLastError = true)] public static partial int Fallocate(int fd, int mode, long offset, long length);
    /// <summary>openat(2); the mode argument is passed always (the variadic slot reads it only with O_CREAT/O_TMPFILE).</summary>
    [LibraryImport(C, EntryPoint = "openat", SetLastError = true)] public static partial int OpenAt(int dirfd, byte* path, int flags, int mode);
    /// <summary>statx(2) (glibc 2.28).</summary>
    [LibraryImport(C, EntryPoint = "statx", SetLastError = true)] public static partial int Statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    /// <summary>preadv2 flag: fail with EAGAIN instead of blocking (data not in the page cache). Linux 4.14.</summary>
    public const int RWF_NOWAIT = 0x8;
}
