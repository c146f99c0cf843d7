using LinuxEvent.Native;

namespace LinuxEvent.Tests;

/// <summary>
/// struct statx as the library reads and writes it, checked against the C headers (offsets, the O_* and AT_* values
/// the file API passes to the kernel, and the iovec size) and against a round trip.
/// </summary>
public class FileStatusTests : FdCheckedTest
{
    [Test]
    public void AStatusSurvivesTheKernelLayoutRoundTrip()
    {
        var s = new FileStatus
        {
            Size = 1L << 40, Type = FileType.Directory, Permissions = (UnixFileMode)0x1ED, BlockSize = 4096, Blocks = 8,
            LinkCount = 3, UserId = 1000, GroupId = 100, Inode = 987654321,
            AccessTime = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123),
            ModificationTime = new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(5),   // before the epoch
            StatusChangeTime = DateTimeOffset.UnixEpoch, BirthTime = DateTimeOffset.UnixEpoch.AddDays(1),
            Device = (8, 1), DirectIoMemoryAlignment = 512, DirectIoOffsetAlignment = 512,
        };
        var block = new byte[StatxLayout.Size];
        s.Write(block);
        Assert.That(FileStatus.Read(block), Is.EqualTo(s));
        var noBirth = s with { BirthTime = null, DirectIoMemoryAlignment = 0, DirectIoOffsetAlignment = 0 };
        noBirth.Write(block);
        Assert.That(FileStatus.Read(block), Is.EqualTo(noBirth));
    }

    [Test]
    public void LayoutAndConstantsMatchTheCHeaders()
    {
        string dir = Directory.CreateTempSubdirectory("linuxevent-statx-probe-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "probe.c"), """
                #define _GNU_SOURCE
                #include <stdio.h>
                #include <stddef.h>
                #include <fcntl.h>
                #include <sys/stat.h>
                #include <sys/uio.h>
                #include <linux/stat.h>
                int main(void) {
                  printf("size=%zu\n", sizeof(struct statx));
                  printf("mask=%zu\nblksize=%zu\nnlink=%zu\nuid=%zu\ngid=%zu\nmode=%zu\nino=%zu\nfsize=%zu\nblocks=%zu\n",
                    offsetof(struct statx, stx_mask), offsetof(struct statx, stx_blksize), offsetof(struct statx, stx_nlink),
                    offsetof(struct statx, stx_uid), offsetof(struct statx, stx_gid), offsetof(struct statx, stx_mode),
                    offsetof(struct statx, stx_ino), offsetof(struct statx, stx_size), offsetof(struct statx, stx_blocks));
                  printf("atime=%zu\nbtime=%zu\nctime=%zu\nmtime=%zu\ndevmaj=%zu\ndevmin=%zu\ndiomem=%zu\ndiooff=%zu\n",
                    offsetof(struct statx, stx_atime), offsetof(struct statx, stx_btime), offsetof(struct statx, stx_ctime),
                    offsetof(struct statx, stx_mtime), offsetof(struct statx, stx_dev_major), offsetof(struct statx, stx_dev_minor),
                    offsetof(struct statx, stx_dio_mem_align), offsetof(struct statx, stx_dio_offset_align));
                  printf("O_DIRECT=%d\nO_DIRECTORY=%d\nO_NOFOLLOW=%d\nO_EXCL=%d\nO_DSYNC=%d\nO_SYNC=%d\nO_NOATIME=%d\n",
                    O_DIRECT, O_DIRECTORY, O_NOFOLLOW, O_EXCL, O_DSYNC, O_SYNC, O_NOATIME);
                  printf("AT_FDCWD=%d\nAT_EMPTY_PATH=%d\nAT_SYMLINK_NOFOLLOW=%d\nSTATX_DIOALIGN=%d\nSTATX_BTIME=%d\niovec=%zu\n",
                    AT_FDCWD, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, STATX_DIOALIGN, STATX_BTIME, sizeof(struct iovec));
                  return 0;
                }
                """);
            Assert.That(NativeLayoutTests.RunToExit("gcc", new[] { "-o", $"{dir}/probe", $"{dir}/probe.c" }, null), Is.Zero, "gcc built the probe");
            string output = "";
            Assert.That(NativeLayoutTests.RunToExit($"{dir}/probe", Array.Empty<string>(), s => output = s), Is.Zero);
            var c = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
            var ours = new Dictionary<string, int>
            {
                ["size"] = StatxLayout.Size, ["mask"] = StatxLayout.Mask, ["blksize"] = StatxLayout.BlockSize,
                ["nlink"] = StatxLayout.LinkCount, ["uid"] = StatxLayout.Uid, ["gid"] = StatxLayout.Gid, ["mode"] = StatxLayout.Mode,
                ["ino"] = StatxLayout.Inode, ["fsize"] = StatxLayout.FileSize, ["blocks"] = StatxLayout.Blocks,
                ["atime"] = StatxLayout.AccessTime, ["btime"] = StatxLayout.BirthTime, ["ctime"] = StatxLayout.ChangeTime,
                ["mtime"] = StatxLayout.ModifyTime, ["devmaj"] = StatxLayout.DevMajor, ["devmin"] = StatxLayout.DevMinor,
                ["diomem"] = StatxLayout.DioMemAlign, ["diooff"] = StatxLayout.DioOffsetAlign,
                ["O_DIRECT"] = Libc.O_DIRECT, ["O_DIRECTORY"] = Libc.O_DIRECTORY, ["O_NOFOLLOW"] = Libc.O_NOFOLLOW,
                ["O_EXCL"] = Libc.O_EXCL, ["O_DSYNC"] = Libc.O_DSYNC, ["O_SYNC"] = Libc.O_SYNC, ["O_NOATIME"] = Libc.O_NOATIME,
                ["AT_FDCWD"] = Libc.AT_FDCWD, ["AT_EMPTY_PATH"] = Libc.AT_EMPTY_PATH, ["AT_SYMLINK_NOFOLLOW"] = Libc.AT_SYMLINK_NOFOLLOW,
                ["STATX_DIOALIGN"] = (int)StatxLayout.STATX_DIOALIGN, ["STATX_BTIME"] = (int)StatxLayout.STATX_BTIME,
                ["iovec"] = System.Runtime.CompilerServices.Unsafe.SizeOf<IoVec>(),
            };
            Assert.That(ours, Is.EquivalentTo(c));
        }
        finally { Directory.Delete(dir, true); }
    }
}
