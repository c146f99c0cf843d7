using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// The proactor's file operations in its callback API (native io_uring opcodes), on io_uring and on the fake, plus what
/// is specific to io_uring: the opcode probe, and a pipe read at an offset.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class ProactorFileTests(Backend backend) : FdCheckedTest
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private ProactorLoop Create() => (ProactorLoop)backend.Create();

    /// <summary>Runs until <paramref name="op"/> settled; on the fake the script plays the kernel first.</summary>
    private static void Settle(ProactorLoop loop, FileScript files, Operation op)
    {
        files.RunUntil(() => op.IsSettled);
        loop.RunOnce(TimeSpan.Zero);               // the fake runs a settlement's callback on the next dispatch
        Assert.That(op.State, Is.EqualTo(OperationState.Completed), op.ToString());
    }

    [Test]
    public void VectoredFsyncFallocateOpenAndStatxOperationsCompleteWithTheirResults()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("cb", Ascii("----------"));
        var seen = new List<OperationKind>();

        var write = loop.WriteV(fd, new ReadOnlyMemory<byte>[] { Ascii("ab"), Ascii("cd") }, 2, o => seen.Add(o.Kind));
        Assert.That(write.Kind, Is.EqualTo(OperationKind.WriteV));
        Assert.That(write.FileOffset, Is.EqualTo(2));
        Assert.That(write.RequestedLength, Is.EqualTo(4));
        Settle(loop, files, write);
        Assert.That(write.Result, Is.EqualTo(4));

        byte[] a = new byte[3], b = new byte[5];
        var read = loop.ReadV(fd, new Memory<byte>[] { a, b }, 1, o => seen.Add(o.Kind));
        Settle(loop, files, read);
        Assert.That(read.Result, Is.EqualTo(8));
        Assert.That(Encoding.ASCII.GetString(a) + Encoding.ASCII.GetString(b), Is.EqualTo("-abcd---"));

        Settle(loop, files, loop.Fsync(fd, o => seen.Add(o.Kind)));
        Settle(loop, files, loop.Fdatasync(fd, o => seen.Add(o.Kind)));
        var fall = loop.Fallocate(fd, 0, 65536, FallocateMode.Default, o => seen.Add(o.Kind));
        Assert.That((fall.FileOffset, fall.RequestedLength), Is.EqualTo((0L, 65536L)));
        Settle(loop, files, fall);

        var stat = loop.Statx(fd, o => seen.Add(o.Kind));
        Assert.Throws<InvalidOperationException>(() => _ = stat.FileStatus, "not completed yet");
        Settle(loop, files, stat);
        Assert.That(stat.FileStatus.Size, Is.EqualTo(65536));
        Assert.That(stat.FileStatus.Type, Is.EqualTo(FileType.RegularFile));

        var open = loop.OpenAt(files.PathOf("cb"), FileOpenFlags.ReadOnly, default, o => seen.Add(o.Kind));
        Assert.That(open.Path, Is.EqualTo(files.PathOf("cb")));
        Settle(loop, files, open);
        Assert.That(Posix.IsOpen(open.Result), Is.True);
        var byPath = loop.Statx(files.PathOf("cb"), followSymbolicLinks: true);
        Settle(loop, files, byPath);
        Assert.That(byPath.FileStatus.Inode, Is.EqualTo(stat.FileStatus.Inode));
        Settle(loop, files, loop.Close(open.Result));

        Assert.That(seen, Is.EqualTo(new[] { OperationKind.WriteV, OperationKind.ReadV, OperationKind.Fsync, OperationKind.Fdatasync,
            OperationKind.Fallocate, OperationKind.Statx, OperationKind.OpenAt }));
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void AVectoredReadCanBeResubmittedWithoutNewArguments()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("r", Ascii("0123456789"));
        byte[] a = new byte[2], b = new byte[2];
        var op = loop.ReadV(fd, new Memory<byte>[] { a, b }, 3);
        Settle(loop, files, op);
        Assert.That(Encoding.ASCII.GetString(a) + Encoding.ASCII.GetString(b), Is.EqualTo("3456"));
        Posix.Write(fd, Ascii("xxxxxxx"));                     // overwrite from position 0
        loop.Resubmit(op);
        Settle(loop, files, op);
        Assert.That(Encoding.ASCII.GetString(a) + Encoding.ASCII.GetString(b), Is.EqualTo("xxxx"));
    }

    [Test]
    public void AMissingOpcodeFailsWithUnsupportedNamingIt()
    {
        if (backend.Name != "ProactorUring") Assert.Ignore("the opcode probe is io_uring's");
        using var loop = Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("u", new byte[4]);
        ((UringProactorBackend)loop.Backend).DisableKindForTesting(OperationKind.Statx);
        var direct = Assert.Throws<LinuxEventUnsupportedException>(() => loop.Statx(fd));
        Assert.That(direct!.Message, Does.Contain("IORING_OP_STATX").And.Contain("Loop.CreateReactor()"));
        var viaAsync = Assert.Throws<LinuxEventUnsupportedException>(() => files.Wait(loop.StatxAsync(fd)));
        Assert.That(viaAsync!.Message, Does.Contain("IORING_OP_STATX (Linux 5.6)"));
        Assert.That(loop.LiveOperationCount, Is.Zero, "nothing was left submitted");
        // Other operations still work on the same loop.
        Assert.That(files.Wait(loop.ReadAtAsync(fd, new byte[4], 0)), Is.EqualTo(4));
    }

    [Test]
    public void IoUringReadsAPipeAtItsPositionInsteadOfFailingWithEspipe()
    {
        // A documented difference: pread(2) on a pipe fails with ESPIPE (the reactor's workers report it), while
        // io_uring's READ ignores the offset of a file without FMODE_PREAD... and reads the stream.
        if (backend.Name != "ProactorUring") Assert.Ignore("kernel behaviour");
        using var loop = Create();
        using var files = new FileScript(loop);
        var (r, w) = Posix.Pipe();
        files.Track(r);
        files.Track(w);
        Posix.Write(w, Ascii("stream"));
        var buf = new byte[6];
        Assert.That(files.Wait(loop.ReadAtAsync(r, buf, 1000)), Is.EqualTo(6));
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("stream"));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [Test]
    public void IoUringOpensAFifoWithoutWaitingForAWriter()
    {
        // A documented difference: open(2) of a FIFO for reading blocks until a writer opens it (the reactor's worker
        // blocks; ReactorFileWorkerTests relies on it), but io_uring's OPENAT first tries a non-blocking open
        // (io_openat2 with O_NONBLOCK forced under IO_URING_F_NONBLOCK), which succeeds at once for a FIFO reader, and
        // then clears O_NONBLOCK on the file.
        if (backend.Name != "ProactorUring") Assert.Ignore("kernel behaviour");
        using var loop = Create();
        using var files = new FileScript(loop);
        string fifo = files.PathOf("fifo");
        Assert.That(mkfifo(fifo, 0x180), Is.Zero);
        int fd = files.Track(files.Wait(loop.OpenAsync(fifo, FileOpenFlags.ReadOnly)));
        Assert.That(Native.Libc.Fcntl(fd, Native.Libc.F_GETFL, 0) & Native.Libc.O_NONBLOCK, Is.Zero, "the fd is blocking, as asked");
    }
}
