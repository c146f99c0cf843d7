namespace LinuxEvent.Native;

/// <summary>
/// <c>struct statx</c> (include/uapi/linux/stat.h): 256 bytes, the same on every Linux ABI (fixed-width fields only).
/// Read and written as byte offsets so the buffer can be any pinned 256-byte block (the kernel writes it in place).
/// </summary>
internal static class StatxLayout
{
    /// <summary>sizeof(struct statx).</summary>
    public const int Size = 256;

    // Field offsets.
    public const int Mask = 0, BlockSize = 4, Attributes = 8, LinkCount = 16, Uid = 20, Gid = 24, Mode = 28,
        Inode = 32, FileSize = 40, Blocks = 48, AttributesMask = 56,
        AccessTime = 64, BirthTime = 80, ChangeTime = 96, ModifyTime = 112,      // struct statx_timestamp: s64 sec, u32 nsec, s32 pad
        RdevMajor = 128, RdevMinor = 132, DevMajor = 136, DevMinor = 140, MountId = 144,
        DioMemAlign = 152, DioOffsetAlign = 156;

    // STATX_* mask bits.
    public const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_NLINK = 0x4, STATX_UID = 0x8, STATX_GID = 0x10,
        STATX_ATIME = 0x20, STATX_MTIME = 0x40, STATX_CTIME = 0x80, STATX_INO = 0x100, STATX_SIZE = 0x200,
        STATX_BLOCKS = 0x400, STATX_BASIC_STATS = 0x7ff, STATX_BTIME = 0x800, STATX_MNT_ID = 0x1000,
        STATX_DIOALIGN = 0x2000;

    // S_IFMT and the file types in st_mode.
    public const int S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
        S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
}
