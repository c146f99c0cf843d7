using System.Buffers.Binary;
using L = LinuxEvent.Native.StatxLayout;

namespace LinuxEvent;

/// <summary>
/// What statx(2) reports about a file (<see cref="Loop.StatxAsync(int, CancellationToken)"/>): an immutable
/// snapshot. Fields the kernel or file system did not fill are 0 (or null for <see cref="BirthTime"/>); the
/// basic fields (type, mode, size, times, owner, links, inode, blocks) are always requested. Times are UTC.
/// </summary>
/// <remarks>Construct one with an object initializer to script a statx result on a fake backend
/// (<see cref="FakeCompletions.CompleteStatx"/>, <see cref="FakeReadiness.CompleteStatx"/>).</remarks>
public readonly struct FileStatus : IEquatable<FileStatus>
{
    /// <summary>File size in bytes (stx_size).</summary>
    public long Size { get; init; }

    /// <summary>The type of file (from the S_IFMT bits of stx_mode).</summary>
    public FileType Type { get; init; }

    /// <summary>Permission bits, set-id and sticky bits (the low 12 bits of stx_mode).</summary>
    public UnixFileMode Permissions { get; init; }

    /// <summary>The preferred I/O block size (stx_blksize), e.g. 4096.</summary>
    public int BlockSize { get; init; }

    /// <summary>Allocated storage in 512-byte units (stx_blocks); less than the size for a sparse file.</summary>
    public long Blocks { get; init; }

    /// <summary>Hard link count (stx_nlink).</summary>
    public int LinkCount { get; init; }

    /// <summary>Owner user id (stx_uid).</summary>
    public int UserId { get; init; }

    /// <summary>Owner group id (stx_gid).</summary>
    public int GroupId { get; init; }

    /// <summary>Inode number (stx_ino).</summary>
    public long Inode { get; init; }

    /// <summary>Last access (stx_atime).</summary>
    public DateTimeOffset AccessTime { get; init; }

    /// <summary>Last modification of the contents (stx_mtime).</summary>
    public DateTimeOffset ModificationTime { get; init; }

    /// <summary>Last status change (stx_ctime): contents, owner, mode or links.</summary>
    public DateTimeOffset StatusChangeTime { get; init; }

    /// <summary>Creation time (stx_btime), or null where the file system does not record it.</summary>
    public DateTimeOffset? BirthTime { get; init; }

    /// <summary>Major and minor number of the device holding the file (stx_dev_major/minor).</summary>
    public (int Major, int Minor) Device { get; init; }

    /// <summary>
    /// O_DIRECT alignment of buffer addresses (stx_dio_mem_align, STATX_DIOALIGN, Linux 6.1); 0 if not reported or if
    /// the file does not support O_DIRECT.
    /// </summary>
    public int DirectIoMemoryAlignment { get; init; }

    /// <summary>O_DIRECT alignment of file offsets and lengths (stx_dio_offset_align); 0 if not reported.</summary>
    public int DirectIoOffsetAlignment { get; init; }

    /// <summary>The statx mask of what was requested: the basic stats, birth time, O_DIRECT alignment.</summary>
    internal const uint RequestMask = L.STATX_BASIC_STATS | L.STATX_BTIME | L.STATX_DIOALIGN;

    /// <summary>Decodes a <c>struct statx</c> the kernel filled.</summary>
    internal static FileStatus Read(ReadOnlySpan<byte> b)
    {
        uint mask = U32(b, L.Mask);
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(b[L.Mode..]);
        return new FileStatus
        {
            Size = (long)BinaryPrimitives.ReadUInt64LittleEndian(b[L.FileSize..]),
            Type = (mask & L.STATX_TYPE) != 0 ? TypeOf(mode) : FileType.Unknown,
            Permissions = (UnixFileMode)(mode & 0xFFF),
            BlockSize = (int)U32(b, L.BlockSize),
            Blocks = (long)BinaryPrimitives.ReadUInt64LittleEndian(b[L.Blocks..]),
            LinkCount = (int)U32(b, L.LinkCount),
            UserId = (int)U32(b, L.Uid),
            GroupId = (int)U32(b, L.Gid),
            Inode = (long)BinaryPrimitives.ReadUInt64LittleEndian(b[L.Inode..]),
            AccessTime = Time(b, L.AccessTime),
            ModificationTime = Time(b, L.ModifyTime),
            StatusChangeTime = Time(b, L.ChangeTime),
            BirthTime = (mask & L.STATX_BTIME) != 0 ? Time(b, L.BirthTime) : null,
            Device = ((int)U32(b, L.DevMajor), (int)U32(b, L.DevMinor)),
            DirectIoMemoryAlignment = (mask & L.STATX_DIOALIGN) != 0 ? (int)U32(b, L.DioMemAlign) : 0,
            DirectIoOffsetAlignment = (mask & L.STATX_DIOALIGN) != 0 ? (int)U32(b, L.DioOffsetAlign) : 0,
        };
    }

    /// <summary>Encodes this status as the kernel would (fakes script statx results with it).</summary>
    internal void Write(Span<byte> b)
    {
        b[..L.Size].Clear();
        uint mask = L.STATX_BASIC_STATS | (BirthTime is null ? 0 : L.STATX_BTIME)
            | (DirectIoMemoryAlignment != 0 || DirectIoOffsetAlignment != 0 ? L.STATX_DIOALIGN : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.Mask..], mask);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.BlockSize..], (uint)BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.LinkCount..], (uint)LinkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.Uid..], (uint)UserId);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.Gid..], (uint)GroupId);
        BinaryPrimitives.WriteUInt16LittleEndian(b[L.Mode..], (ushort)(ModeBitsOf(Type) | ((int)Permissions & 0xFFF)));
        BinaryPrimitives.WriteUInt64LittleEndian(b[L.Inode..], (ulong)Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[L.FileSize..], (ulong)Size);
        BinaryPrimitives.WriteUInt64LittleEndian(b[L.Blocks..], (ulong)Blocks);
        WriteTime(b, L.AccessTime, AccessTime);
        WriteTime(b, L.ModifyTime, ModificationTime);
        WriteTime(b, L.ChangeTime, StatusChangeTime);
        if (BirthTime is { } bt) WriteTime(b, L.BirthTime, bt);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.DevMajor..], (uint)Device.Major);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.DevMinor..], (uint)Device.Minor);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.DioMemAlign..], (uint)DirectIoMemoryAlignment);
        BinaryPrimitives.WriteUInt32LittleEndian(b[L.DioOffsetAlign..], (uint)DirectIoOffsetAlignment);
    }

    private static uint U32(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b[offset..]);

    private static DateTimeOffset Time(ReadOnlySpan<byte> b, int offset)
    {
        long sec = BinaryPrimitives.ReadInt64LittleEndian(b[offset..]);
        uint nsec = BinaryPrimitives.ReadUInt32LittleEndian(b[(offset + 8)..]);
        // Clamp to what DateTimeOffset can hold (file systems may store times far outside it).
        const long minSec = -62135596800, maxSec = 253402300799;
        if (sec < minSec) return DateTimeOffset.MinValue;
        if (sec > maxSec) return DateTimeOffset.MaxValue;
        return DateTimeOffset.FromUnixTimeSeconds(sec).AddTicks(nsec / 100);
    }

    private static void WriteTime(Span<byte> b, int offset, DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { sec--; rem += TimeSpan.TicksPerSecond; }
        BinaryPrimitives.WriteInt64LittleEndian(b[offset..], sec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[(offset + 8)..], (uint)(rem * 100));
    }

    private static FileType TypeOf(int mode) => (mode & L.S_IFMT) switch
    {
        L.S_IFREG => FileType.RegularFile,
        L.S_IFDIR => FileType.Directory,
        L.S_IFLNK => FileType.SymbolicLink,
        L.S_IFCHR => FileType.CharacterDevice,
        L.S_IFBLK => FileType.BlockDevice,
        L.S_IFIFO => FileType.Fifo,
        L.S_IFSOCK => FileType.Socket,
        _ => FileType.Unknown,
    };

    private static int ModeBitsOf(FileType type) => type switch
    {
        FileType.RegularFile => L.S_IFREG,
        FileType.Directory => L.S_IFDIR,
        FileType.SymbolicLink => L.S_IFLNK,
        FileType.CharacterDevice => L.S_IFCHR,
        FileType.BlockDevice => L.S_IFBLK,
        FileType.Fifo => L.S_IFIFO,
        FileType.Socket => L.S_IFSOCK,
        _ => 0,
    };

    /// <inheritdoc />
    public bool Equals(FileStatus other)
        => Size == other.Size && Type == other.Type && Permissions == other.Permissions && BlockSize == other.BlockSize
            && Blocks == other.Blocks && LinkCount == other.LinkCount && UserId == other.UserId && GroupId == other.GroupId
            && Inode == other.Inode && AccessTime == other.AccessTime && ModificationTime == other.ModificationTime
            && StatusChangeTime == other.StatusChangeTime && BirthTime == other.BirthTime && Device == other.Device
            && DirectIoMemoryAlignment == other.DirectIoMemoryAlignment && DirectIoOffsetAlignment == other.DirectIoOffsetAlignment;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FileStatus s && Equals(s);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Size, Type, Permissions, Inode, ModificationTime);

    /// <summary>Equality of every field.</summary>
    public static bool operator ==(FileStatus left, FileStatus right) => left.Equals(right);

    /// <summary>Inequality of any field.</summary>
    public static bool operator !=(FileStatus left, FileStatus right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"{Type} size={Size} mode={Convert.ToString((int)Permissions, 8)} blksize={BlockSize} ino={Inode} mtime={ModificationTime:O}";
}
