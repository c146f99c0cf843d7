using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// Bad input to the file API gets a specific exception naming the call, the argument or syscall, and the errno, and
/// leaves nothing behind (no pending request, no live operation, no fd: <see cref="FdCheckedTest"/>). Run on both
/// models' real backends and on the fakes (where the kernel's answer is played by <see cref="FileScript"/>).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class FileBadInputTests(Backend backend) : FdCheckedTest
{
    private static void AssertNothingPending(Loop loop, FileScript files)
    {
        Assert.That(files.PendingCount, Is.Zero, "pending on the fake");
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero, "live proactor operations");
    }

    [Test]
    public void ADirectoryFailsWithEisdirNamingPreadAndTheCall()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int dir = files.Track(Posix.Open(files.Dir, FileOpenFlags.ReadOnly | FileOpenFlags.Directory));
        var ex = Assert.Throws<LinuxEventException>(() => files.Wait(loop.ReadAtAsync(dir, new byte[16], 0)));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.EISDIR));
        Assert.That(ex.Call, Is.EqualTo($"pread(fd={dir}, count=16, offset=0)"));
        Assert.That(ex.Message, Does.Contain("EISDIR").And.Contain("Loop.ReadAtAsync").And.Contain("directory"));
        // Opening a directory for writing: EISDIR from openat.
        var open = Assert.Throws<LinuxEventException>(() => files.Wait(loop.OpenAsync(files.Dir, FileOpenFlags.WriteOnly)));
        Assert.That(open!.Errno, Is.EqualTo(Errno.EISDIR));
        Assert.That(open.Call, Does.StartWith("openat(AT_FDCWD, \"" + files.Dir + "\""));
        AssertNothingPending(loop, files);
    }

    [Test]
    public void AClosedFdFailsWithEbadfOnEveryKindOfCall()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int closed = Enumerable.Range(15_000, 1000).First(n => !Posix.IsOpen(n));   // below the 20,000 fd limit
        var read = Assert.Throws<LinuxEventException>(() => files.Wait(loop.ReadAtAsync(closed, new byte[4], 8)));
        Assert.That(read!.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(read.Message, Does.Contain($"pread(fd={closed}, count=4, offset=8)").And.Contain("not an open file descriptor"));
        var write = Assert.Throws<LinuxEventException>(() => files.Wait(loop.WriteAtAsync(closed, new byte[4], 0)));
        Assert.That(write!.Call, Does.StartWith($"pwrite(fd={closed}"));
        Assert.That(Assert.Throws<LinuxEventException>(() => files.Wait(loop.FsyncAsync(closed)))!.Call, Is.EqualTo($"fsync(fd={closed})"));
        Assert.That(Assert.Throws<LinuxEventException>(() => files.Wait(loop.FdatasyncAsync(closed)))!.Call, Is.EqualTo($"fdatasync(fd={closed})"));
        Assert.That(Assert.Throws<LinuxEventException>(() => files.Wait(loop.StatxAsync(closed)))!.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(Assert.Throws<LinuxEventException>(() => files.Wait(loop.FallocateAsync(closed, 0, 10)))!.Call, Does.StartWith($"fallocate(fd={closed}"));
        Assert.That(Assert.Throws<LinuxEventException>(() => files.Wait(loop.CloseAsync(closed)))!.Call, Is.EqualTo($"close(fd={closed})"));
        AssertNothingPending(loop, files);
    }

    [Test]
    public void AnFdOpenForReadingRefusesWritesNamingTheDirection()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("ro", Encoding.ASCII.GetBytes("read only"), FileOpenFlags.ReadOnly);
        var ex = Assert.Throws<LinuxEventException>(() => files.Wait(loop.WriteAtAsync(fd, new byte[] { 1 }, 0)));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(ex.Message, Does.Contain("not open for writing").And.Contain("Loop.WriteAtAsync"));
    }

    [Test]
    public void NegativeOffsetsAndLengthsAreRefusedBeforeAnythingStarts()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("n", new byte[8]);
        var read = Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.ReadAtAsync(fd, new byte[1], -1));
        Assert.That(read!.ParamName, Is.EqualTo("offset"));
        Assert.That(read.Message, Does.Contain("Loop.ReadAtAsync").And.Contain("must not be negative"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.WriteAtAsync(fd, new byte[1], long.MinValue))!.Message, Does.Contain("Loop.WriteAtAsync"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.ReadAtAsync(fd, new Memory<byte>[] { new byte[1] }, -5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.WriteAtAsync(fd, new ReadOnlyMemory<byte>[] { new byte[1] }, -5));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.FallocateAsync(fd, -1, 10))!.ParamName, Is.EqualTo("offset"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.FallocateAsync(fd, 0, 0))!.ParamName, Is.EqualTo("length"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.ReadAtAsync(-3, new byte[1], 0))!.ParamName, Is.EqualTo("fd"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.ReadAtAsync(fd, new Memory<byte>[Loop.MaxVectorLength + 1], 0));
        using (var reg = loop.Register(Posix.Open(files.PathOf("n"), FileOpenFlags.ReadOnly), ownsFd: true))
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = reg.ReadAtAsync(new byte[1], -1))!.Message, Does.Contain("LoopFd.ReadAtAsync"));
        if (loop is ProactorLoop p)
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => p.ReadV(fd, new Memory<byte>[] { new byte[1] }, -2))!.Message, Does.Contain("ProactorLoop.ReadV"));
        AssertNothingPending(loop, files);
    }

    [Test]
    public void BadPathsAndFlagsAreRefusedSynchronously()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        Assert.That(Assert.Throws<ArgumentException>(() => _ = loop.OpenAsync("a\0b", FileOpenFlags.ReadOnly))!.Message, Does.Contain("NUL"));
        Assert.Throws<ArgumentException>(() => _ = loop.OpenAsync("", FileOpenFlags.ReadOnly));
        Assert.Throws<ArgumentNullException>(() => _ = loop.OpenAsync(null!, FileOpenFlags.ReadOnly));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.OpenAsync(files.PathOf("x"), (FileOpenFlags)3));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.OpenAsync(files.PathOf("x"), (FileOpenFlags)(1 << 20)));
        Assert.Throws<ArgumentNullException>(() => _ = loop.ReadAtAsync(0, (IReadOnlyList<Memory<byte>>)null!, 0));
        var missing = Assert.Throws<LinuxEventException>(() => files.Wait(loop.StatxAsync(files.PathOf("missing"))));
        Assert.That(missing!.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(missing.Call, Is.EqualTo($"statx(AT_FDCWD, \"{files.PathOf("missing")}\")"));
        AssertNothingPending(loop, files);
    }

    [Test]
    public void APipeIsNotSeekableAndTheErrorSaysSo()
    {
        // io_uring does not refuse an offset on a pipe (it reads the stream; ProactorFileTests documents that), so this
        // is the reactor's pread(2) contract.
        if (backend.Model == LoopModel.Proactor) Assert.Ignore("io_uring reads a pipe at its position instead of failing with ESPIPE (see ProactorFileTests).");
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        var (r, w) = Posix.Pipe();
        files.Track(r);
        files.Track(w);
        var ex = Assert.Throws<LinuxEventException>(() => files.Wait(loop.ReadAtAsync(r, new byte[4], 0)));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.ESPIPE));
        Assert.That(ex.Message, Does.Contain("positional I/O needs a seekable file"));
    }

    [Test]
    public void AnUnalignedODirectBufferFailsWithEinvalAndAnAlignmentHint()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        File.WriteAllBytes(files.PathOf("d"), new byte[64 * 1024]);
        int fd;
        try { fd = files.Track(Posix.Open(files.PathOf("d"), FileOpenFlags.ReadWrite | FileOpenFlags.Direct)); }
        catch (LinuxEventException e) when (e.Errno == Errno.EINVAL) { Assert.Ignore("this file system has no O_DIRECT: " + e.Message); return; }
        using var pool = new AlignedBufferPool(8192, 2);
        using var owner = pool.Rent();

        var misaligned = owner.Memory.Slice(1, 4096);
        var ex = Assert.Throws<LinuxEventException>(() => files.Wait(loop.ReadAtAsync(fd, misaligned, 0)));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(ex.Message, Does.Contain("pread(fd=").And.Contain("O_DIRECT").And.Contain("AlignedBufferPool").And.Contain("Loop.ReadAtAsync"));
        var offset = Assert.Throws<LinuxEventException>(() => files.Wait(loop.WriteAtAsync(fd, owner.Memory[..4096], 1)));
        Assert.That(offset!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(offset.Message, Does.Contain("O_DIRECT"));

        // The same read, aligned, works: the pool's buffers are fit for O_DIRECT.
        Assert.That(files.Wait(loop.ReadAtAsync(fd, owner.Memory[..4096], 4096)), Is.EqualTo(4096));
        AssertNothingPending(loop, files);
    }

    [Test]
    public void CloseRefusesARegisteredFdAndLeavesItOpen()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = Posix.Open(files.Dir, FileOpenFlags.ReadOnly | FileOpenFlags.Directory);
        using var reg = loop.Register(fd, ownsFd: true);
        var ex = Assert.Throws<InvalidOperationException>(() => _ = loop.CloseAsync(fd));
        Assert.That(ex!.Message, Does.Contain("Loop.CloseAsync").And.Contain("registered"));
        Assert.That(Posix.IsOpen(fd), Is.True);
    }
}
