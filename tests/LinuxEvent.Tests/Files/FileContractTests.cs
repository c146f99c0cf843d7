using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// The async file API, written once and run on every backend of both models: the reactor's worker pool (epoll), the
/// proactor's native io_uring operations, and both fakes (served by <see cref="FileScript"/>).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class FileContractTests(Backend backend) : FdCheckedTest
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Test]
    public void ReadAtReturnsTheBytesAtTheOffsetAndLeavesThePositionAlone()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("a", Ascii("hello world"));
        var buf = new byte[5];
        Assert.That(files.Wait(loop.ReadAtAsync(fd, buf, 6)), Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("world"));
        Assert.That(files.Wait(loop.ReadAtAsync(fd, buf, 0)), Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("hello"));
        // Past the end: 0; across the end: a short read.
        Assert.That(files.Wait(loop.ReadAtAsync(fd, buf, 100)), Is.Zero);
        Assert.That(files.Wait(loop.ReadAtAsync(fd, buf, 8)), Is.EqualTo(3));
        // Positional reads never moved the fd's position: read(2) still starts at 0.
        var head = new byte[5];
        Assert.That(Posix.Read(fd, head), Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(head), Is.EqualTo("hello"));
    }

    [Test]
    public void WriteAtThenFsyncAndFdatasyncPersistTheBytes()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("w", Ascii("0123456789"));
        Assert.That(files.Wait(loop.WriteAtAsync(fd, Ascii("abc"), 4)), Is.EqualTo(3));
        files.Wait(loop.FsyncAsync(fd));
        Assert.That(files.Wait(loop.WriteAtAsync(fd, Ascii("XY"), 12)), Is.EqualTo(2));
        files.Wait(loop.FdatasyncAsync(fd));
        Assert.That(File.ReadAllBytes(files.PathOf("w")), Is.EqualTo(Ascii("0123abc789\0\0XY")));
    }

    [Test]
    public void VectoredReadAndWriteFillAndDrainTheBuffersInOrder()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("v", Ascii("...................."));
        var parts = new ReadOnlyMemory<byte>[] { Ascii("ab"), Ascii("cde"), Ascii(""), Ascii("fghi") };
        Assert.That(files.Wait(loop.WriteAtAsync(fd, parts, 3)), Is.EqualTo(9));
        Assert.That(File.ReadAllText(files.PathOf("v")), Is.EqualTo("...abcdefghi........"));
        byte[] a = new byte[4], b = new byte[1], c = new byte[6];
        Assert.That(files.Wait(loop.ReadAtAsync(fd, new Memory<byte>[] { a, b, c }, 2)), Is.EqualTo(11));
        Assert.That(Encoding.ASCII.GetString(a) + "|" + Encoding.ASCII.GetString(b) + "|" + Encoding.ASCII.GetString(c),
            Is.EqualTo(".abc|d|efghi."));
    }

    [Test]
    public void OpenCreatesStatxDescribesAndCloseReleasesTheFd()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        string path = files.PathOf("new");
        int fd = files.Wait(loop.OpenAsync(path, FileOpenFlags.ReadWrite | FileOpenFlags.Create | FileOpenFlags.Exclusive,
            UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(Libc_IsCloseOnExec(fd), Is.True, "the new fd is close-on-exec");
        Assert.That(files.Wait(loop.WriteAtAsync(fd, new byte[5000], 0)), Is.EqualTo(5000));

        var byFd = files.Wait(loop.StatxAsync(fd));
        Assert.That(byFd.Type, Is.EqualTo(FileType.RegularFile));
        Assert.That(byFd.Size, Is.EqualTo(5000));
        Assert.That(byFd.Permissions, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(byFd.BlockSize, Is.GreaterThan(0));
        Assert.That(byFd.LinkCount, Is.EqualTo(1));
        Assert.That(byFd.ModificationTime, Is.EqualTo(new DateTimeOffset(File.GetLastWriteTimeUtc(path))).Within(TimeSpan.FromSeconds(1)));

        var byPath = files.Wait(loop.StatxAsync(path));
        Assert.That(byPath.Inode, Is.EqualTo(byFd.Inode));
        var dir = files.Wait(loop.StatxAsync(files.Dir));
        Assert.That(dir.Type, Is.EqualTo(FileType.Directory));

        files.Wait(loop.CloseAsync(fd));
        Assert.That(Posix.IsOpen(fd), Is.False, "closed");
        // Exclusive create of an existing file: EEXIST, naming openat and the path.
        var ex = Assert.Throws<LinuxEventException>(() => files.Wait(loop.OpenAsync(path, FileOpenFlags.WriteOnly | FileOpenFlags.Create | FileOpenFlags.Exclusive)));
        Assert.That(ex!.ErrnoName, Is.EqualTo("EEXIST"));
        Assert.That(ex.Message, Does.Contain("openat(AT_FDCWD, \"" + path + "\"").And.Contain("Loop.OpenAsync"));
    }

    [Test]
    public void OpenAtResolvesRelativeToADirectoryFd()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        File.WriteAllText(files.PathOf("rel"), "relative");
        int dirFd = files.Track(Posix.Open(files.Dir, FileOpenFlags.ReadOnly | FileOpenFlags.Directory));
        int fd = files.Track(files.Wait(loop.OpenAtAsync(dirFd, "rel", FileOpenFlags.ReadOnly, default)));
        var buf = new byte[8];
        Assert.That(files.Wait(loop.ReadAtAsync(fd, buf, 0)), Is.EqualTo(8));
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("relative"));
    }

    [Test]
    public void FallocateReservesSpaceAndGrowsTheFile()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("f", Array.Empty<byte>());
        files.Wait(loop.FallocateAsync(fd, 0, 1 << 20));
        var st = files.Wait(loop.StatxAsync(fd));
        Assert.That(st.Size, Is.EqualTo(1 << 20));
        Assert.That(st.Blocks * 512, Is.GreaterThanOrEqualTo(1 << 20), "the blocks are allocated");
        files.Wait(loop.FallocateAsync(fd, 1 << 20, 4096, FallocateMode.KeepSize));
        Assert.That(files.Wait(loop.StatxAsync(fd)).Size, Is.EqualTo(1 << 20), "KeepSize leaves the size");
    }

    [Test]
    public void ThirtyTwoReadsInFlightOnOneFdAllCompleteWithTheirOwnBytes()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        var content = new byte[32 * 512];
        for (int i = 0; i < content.Length; i++) content[i] = (byte)(i / 512);
        int fd = files.CreateFile("many", content);
        var buffers = new byte[32][];
        var tasks = new Task<int>[32];
        for (int i = 0; i < 32; i++)
        {
            buffers[i] = new byte[512];
            tasks[i] = loop.ReadAtAsync(fd, buffers[i], (31 - i) * 512L).AsTask();   // no side rule: all pending at once
        }
        files.RunUntil(() => tasks.All(t => t.IsCompleted));
        for (int i = 0; i < 32; i++)
        {
            Assert.That(tasks[i].Result, Is.EqualTo(512));
            Assert.That(buffers[i], Is.All.EqualTo((byte)(31 - i)), $"read {i}");
        }
    }

    [Test]
    public void ARegisteredFileDoesFileOperationsWithoutTheFdArgument()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        File.WriteAllText(files.PathOf("reg"), "registered");
        int fd = Posix.Open(files.PathOf("reg"), FileOpenFlags.ReadWrite);
        using (var reg = loop.Register(fd, ownsFd: true))     // a regular file: the reactor keeps it out of epoll
        {
            var buf = new byte[4];
            Assert.That(files.Wait(reg.ReadAtAsync(buf, 6)), Is.EqualTo(4));
            Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("ered"));
            Assert.That(files.Wait(reg.WriteAtAsync(Ascii("RE"), 0)), Is.EqualTo(2));
            files.Wait(reg.FsyncAsync());
            files.Wait(reg.FdatasyncAsync());
            Assert.That(files.Wait(reg.StatxAsync()).Size, Is.EqualTo(10));
            files.Wait(reg.FallocateAsync(0, 20));
            var vec = new Memory<byte>[] { new byte[2], new byte[3] };
            Assert.That(files.Wait(reg.ReadAtAsync(vec, 0)), Is.EqualTo(5));
            Assert.That(files.Wait(reg.WriteAtAsync(new ReadOnlyMemory<byte>[] { Ascii("x") }, 19)), Is.EqualTo(1));
        }
        Assert.That(Posix.IsOpen(fd), Is.False, "the owned fd was closed by Dispose");
        Assert.That(File.ReadAllText(files.PathOf("reg")), Is.EqualTo("REgistered\0\0\0\0\0\0\0\0\0x"));
    }

    [Test]
    public void FileCallsOffTheLoopThreadAreRefusedLikeEveryLoopCall()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("t", Ascii("x"));
        Exception? seen = null;
        var other = new Thread(() =>
        {
            try { _ = loop.ReadAtAsync(fd, new byte[1], 0); }
            catch (Exception ex) { seen = ex; }
        });
        loop.Post(_ => { other.Start(); other.Join(); });
        loop.RunUntil(() => seen is not null);
        Assert.That(seen, Is.InstanceOf<InvalidOperationException>());
        Assert.That(seen!.Message, Does.Contain("Loop.ReadAtAsync").And.Contain("loop thread"));
    }

    [Test]
    public void AnAlreadyCancelledTokenStartsNothing()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("c", Ascii("abc"));
        var token = new CancellationToken(canceled: true);
        var read = loop.ReadAtAsync(fd, new byte[3], 0, token);
        Assert.That(read.IsCanceled, Is.True);
        Assert.That(loop.FsyncAsync(fd, token).IsCanceled, Is.True);
        Assert.That(loop.OpenAsync(files.PathOf("c"), FileOpenFlags.ReadOnly, token).IsCanceled, Is.True);
        Assert.That(files.PendingCount, Is.Zero);
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
    }

    // F_GETFD through the library's own fcntl binding (the test project sees the internals).
    private static bool Libc_IsCloseOnExec(int fd) => (Native.Libc.Fcntl(fd, Native.Libc.F_GETFD, 0) & Native.Libc.FD_CLOEXEC) != 0;
}
