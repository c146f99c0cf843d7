using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

// File opcodes. Same contract as the rest of UringPrep: a zeroed SQE, only the opcode's fields written. Field use is
// from each opcode's prep function in io_uring/ (rw.c, sync.c, openclose.c, statx.c).
internal static unsafe partial class UringPrep
{
    /// <summary>IORING_OP_READV (5.1): preadv(fd, iov, count, offset); res = bytes read.</summary>
    public static void ReadV(IoUringSqe* sqe, int fd, IoVec* iov, uint count, ulong offset, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_READV, fd, iov, count, offset, userData);

    /// <summary>IORING_OP_WRITEV (5.1): pwritev(fd, iov, count, offset); res = bytes written.</summary>
    public static void WriteV(IoUringSqe* sqe, int fd, IoVec* iov, uint count, ulong offset, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_WRITEV, fd, iov, count, offset, userData);

    /// <summary>IORING_OP_FSYNC (5.1): fsync(fd), or fdatasync with IORING_FSYNC_DATASYNC. off/len may bound a range
    /// (0/0 = the whole file, which is what fsync(2) does).</summary>
    public static void Fsync(IoUringSqe* sqe, int fd, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_FSYNC, fd, null, 0, 0, userData);
        sqe->fsync_flags = flags;
    }

    /// <summary>IORING_OP_OPENAT (5.6): openat(dirfd, path, flags, mode) with the mode in <c>len</c>; res = the new fd.
    /// io_openat_prep copies the path (getname) at submission; it is kept pinned until the CQE all the same.</summary>
    public static void OpenAt(IoUringSqe* sqe, int dirfd, byte* path, int flags, uint mode, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_OPENAT, dirfd, path, mode, 0, userData);
        sqe->open_flags = (uint)flags;
    }

    /// <summary>IORING_OP_STATX (5.6): statx(dirfd, path, flags, mask, buffer) with the mask in <c>len</c> and the
    /// result buffer in <c>addr2</c>; the kernel writes the buffer when the request completes.</summary>
    public static void Statx(IoUringSqe* sqe, int dirfd, byte* path, int flags, uint mask, byte* buffer, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_STATX, dirfd, path, mask, (ulong)buffer, userData);
        sqe->statx_flags = (uint)flags;
    }

    /// <summary>IORING_OP_FALLOCATE (5.6): fallocate(fd, mode, offset, length) with the length in <c>addr</c> and the
    /// mode in <c>len</c> (io_fallocate_prep).</summary>
    public static void Fallocate(IoUringSqe* sqe, int fd, int mode, long offset, long length, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_FALLOCATE, fd, null, (uint)mode, (ulong)offset, userData);
        sqe->addr = (ulong)length;
    }

    /// <summary>IORING_OP_READ_FIXED (5.1): pread into registered buffer <paramref name="bufIndex"/>; the range
    /// [buf, buf + len) must lie inside that buffer (io_import_fixed checks it, -EFAULT otherwise).</summary>
    public static void ReadFixed(IoUringSqe* sqe, int fd, byte* buf, uint len, ulong offset, ushort bufIndex, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_READ_FIXED, fd, buf, len, offset, userData);
        sqe->buf_index = bufIndex;
    }

    /// <summary>IORING_OP_WRITE_FIXED (5.1): pwrite from registered buffer <paramref name="bufIndex"/>.</summary>
    public static void WriteFixed(IoUringSqe* sqe, int fd, byte* buf, uint len, ulong offset, ushort bufIndex, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_WRITE_FIXED, fd, buf, len, offset, userData);
        sqe->buf_index = bufIndex;
    }
}
