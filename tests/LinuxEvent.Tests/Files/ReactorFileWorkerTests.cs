using System.Runtime.InteropServices;
using LinuxEvent.Reactor;

namespace LinuxEvent.Tests;

/// <summary>
/// The reactor's file story, where it differs from the proactor: the worker pool (lazy, bounded threads; a queued
/// request is dropped on cancel, a running one delivers its result; disposal's bounded wait) and the page-cache fast
/// path. Blocking is made deterministic with FIFOs: open(2) of a FIFO for reading blocks in the worker until a writer
/// opens it, which the test controls.
/// </summary>
public class ReactorFileWorkerTests : FdCheckedTest
{
    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static string MakeFifo(FileScript files, string name)
    {
        string path = files.PathOf(name);
        Assert.That(mkfifo(path, 0x180), Is.Zero, "mkfifo");
        return path;
    }

    private static FileWorkerPool PoolOf(ReactorLoop loop) => ((ReactorIoDriver)loop.Driver).FilePool;

    private static int RunningCount(FileWorkerPool pool) => pool.RunningCount;

    [Test]
    public void WorkersAreLazyAndBoundedAQueuedRequestIsDroppedOnCancelAndARunningOneDeliversItsResult()
    {
        using var loop = Loop.CreateReactor(new ReactorOptions { FileWorkerThreads = 2 });
        using var files = new FileScript(loop);
        Assert.That(PoolOf(loop).ThreadCount, Is.Zero, "no worker before the first file operation");
        string[] fifos = { MakeFifo(files, "f0"), MakeFifo(files, "f1"), MakeFifo(files, "f2") };
        var tokens = fifos.Select(_ => new CancellationTokenSource()).ToArray();
        var opens = fifos.Select((p, i) => loop.OpenAsync(p, FileOpenFlags.ReadOnly, tokens[i].Token).AsTask()).ToArray();

        // Two workers block in open(2); the third request waits in the queue.
        files.RunUntil(() => RunningCount(PoolOf(loop)) == 2);
        Assert.That(PoolOf(loop).ThreadCount, Is.EqualTo(2), "never more threads than FileWorkerThreads");
        Assert.That(opens.Count(t => t.IsCompleted), Is.Zero);

        // Cancelling all three: the queued one is dropped at once; the running ones cannot be interrupted.
        foreach (var t in tokens) loop.Post(_ => t.Cancel());
        files.RunUntil(() => opens.Count(t => t.IsCompleted) == 1);
        int queued = Array.FindIndex(opens, t => t.IsCompleted);
        Assert.That(opens[queued].IsCanceled, Is.True, "the request still queued completes cancelled");

        // A writer lets the running opens return: each delivers its fd, although its token was cancelled (never lost).
        var writers = Enumerable.Range(0, 3).Where(i => i != queued).Select(i => files.Track(Posix.Open(fifos[i], FileOpenFlags.WriteOnly))).ToArray();
        files.RunUntil(() => opens.All(t => t.IsCompleted));
        foreach (var i in Enumerable.Range(0, 3).Where(i => i != queued))
        {
            Assert.That(opens[i].Status, Is.EqualTo(TaskStatus.RanToCompletion), $"open {i}");
            Assert.That(Posix.IsOpen(opens[i].Result), Is.True);
            Posix.Close(opens[i].Result);
        }
        Assert.That(writers, Has.Length.EqualTo(2));
    }

    [Test]
    public void DisposalStopsWaitingForAHungSyscallAndTheWorkerCleansUpAfterIt()
    {
        var loop = Loop.CreateReactor(new ReactorOptions { FileWorkerThreads = 1 });
        using var files = new FileScript(loop);
        string fifo = MakeFifo(files, "hung");
        PoolOf(loop).DisposeWaitLimit = TimeSpan.FromMilliseconds(200);
        var open = loop.OpenAsync(fifo, FileOpenFlags.ReadOnly).AsTask();
        var queued = loop.FsyncAsync(files.CreateFile("q", new byte[1])).AsTask();    // behind it: never starts
        files.RunUntil(() => RunningCount(PoolOf(loop)) == 1);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        loop.Dispose();
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "disposal waited about DisposeWaitLimit, not forever");
        Assert.That(Task.WhenAll(open, queued).ContinueWith(_ => { }).Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(open.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>(), "the abandoned open");
        Assert.That(queued.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>(), "the queued fsync");

        // Unblock the worker: its open returns an fd nobody can take, and the worker closes it (the fd check proves it).
        int before = Fds.Count();
        files.Track(Posix.Open(fifo, FileOpenFlags.WriteOnly));
        Assert.That(Fds.CountSettled(before + 1), Is.EqualTo(before + 1), "only the writer stays open");
    }

    [Test]
    public void ACachedReadCompletesInlineWithoutAThreadHop()
    {
        using var loop = Loop.CreateReactor();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("cached", new byte[8192]);         // just written: in the page cache
        var read = loop.ReadAtAsync(fd, new byte[4096], 4096);
        Assert.That(read.IsCompletedSuccessfully, Is.True, "served by preadv2(RWF_NOWAIT) on the loop thread");
        Assert.That(read.Result, Is.EqualTo(4096));
        Assert.That(PoolOf(loop).ThreadCount, Is.Zero, "no worker was needed");
        // At end of file too.
        var eof = loop.ReadAtAsync(fd, new byte[16], 8192);
        Assert.That(eof.IsCompletedSuccessfully && eof.Result == 0, Is.True);
    }

    [Test]
    public void ATaskReadingACachedFileInALoopStillLetsTimersRun()
    {
        // Every read is served inline from the page cache, so without a budget this loop would never yield.
        using var loop = Loop.CreateReactor();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("hot", new byte[4096]);
        var buffer = new byte[4096];
        int synchronous = 0;
        for (int i = 0; i < ReactorIoDriver.InlineBudget + 1; i++)
        {
            var read = loop.ReadAtAsync(fd, buffer, 0);
            if (read.IsCompleted) synchronous++;
            _ = read.AsTask();
        }
        Assert.That(synchronous, Is.EqualTo(ReactorIoDriver.InlineBudget), "inline within the budget, then from the deferred phase");

        bool fired = false;
        long reads = 0;
        long readsWhenFired = -1;
        loop.After(TimeSpan.FromMilliseconds(1), _ => { fired = true; readsWhenFired = reads; });
        // Not timed: the task keeps reading until the timer has fired AND it has read past the budget; a loop that never
        // yields would starve the timer, and the read cap bounds the test instead of hanging it.
        loop.Run(async () =>
        {
            while ((!fired || reads <= 2 * ReactorIoDriver.InlineBudget) && reads < 1_000_000)
            {
                await loop.ReadAtAsync(fd, buffer, 0);
                reads++;
            }
        });
        Assert.That(fired, Is.True, $"the timer never ran during {reads} inline reads");
        Assert.That(reads, Is.GreaterThan(2 * ReactorIoDriver.InlineBudget));
        Assert.That(readsWhenFired, Is.LessThan(1_000_000));
        Assert.That(PoolOf(loop).ThreadCount, Is.Zero, "every read was served on the loop thread");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_fadvise(int fd, long offset, long length, int advice);

    [Test]
    public void APartlyCachedReadTakesTheCachedPrefixInlineAndAWorkerReadsTheRest()
    {
        using var loop = Loop.CreateReactor();
        using var files = new FileScript(loop);
        // Large folios: eviction works on whole folios, so the file is big and the evicted range is 4 MiB-aligned.
        var content = new byte[8 << 20];
        for (int i = 0; i < content.Length; i++) content[i] = (byte)(i / 4096);
        int fd = files.CreateFile("partly", content);
        // Drop [4 MiB, 8 MiB) from the page cache (clean pages after the fsync): RWF_NOWAIT then copies the cached
        // part of a read that straddles 4 MiB and stops short. cachestat(2) confirms the eviction without touching the
        // pages (a probing read would start readahead and bring them back).
        // Other processes' I/O (or the kernel's readahead) can bring the evicted pages back between the check and the
        // read; then the whole read is served inline, which is right but proves nothing here: evict and read again
        // (bounded) until the read finds the upper half missing.
        for (int round = 0; round < 3 && PoolOf(loop).ThreadCount == 0; round++)
        {
            bool evicted = false;
            for (int attempt = 0; attempt < 10 && !evicted; attempt++)
            {
                Assert.That(fsync(fd), Is.Zero);
                Assert.That(posix_fadvise(fd, 4 << 20, 4 << 20, 4 /* POSIX_FADV_DONTNEED */), Is.Zero);
                evicted = CachedPages(fd, 4 << 20, 64 * 1024) == 0 && CachedPages(fd, (4 << 20) - 32 * 1024, 32 * 1024) > 0;
            }
            if (!evicted) Assert.Inconclusive("could not evict exactly the upper half of the range from the page cache");
            var buffer = new byte[64 * 1024];
            long offset = (4 << 20) - 32 * 1024;
            var read = loop.ReadAtAsync(fd, buffer, offset).AsTask();
            files.RunUntil(read);
            Assert.That(read.Result, Is.EqualTo(buffer.Length));
            Assert.That(buffer, Is.EqualTo(content.AsSpan((int)offset, buffer.Length).ToArray()), "prefix and rest joined at the right offset");
        }
        TestContext.Out.WriteLine($"workers used: {PoolOf(loop).ThreadCount}");
        Assert.That(PoolOf(loop).ThreadCount, Is.EqualTo(1), "the uncached rest went to a worker");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange { public ulong Offset, Length; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cachestat { public ulong Cache, Dirty, Writeback, Evicted, RecentlyEvicted; }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long cachestat(long number, int fd, ref CachestatRange range, ref Cachestat stat, uint flags);

    /// <summary>Pages of the range in the page cache (cachestat(2), Linux 6.5; syscall 451 on x86-64 and arm64).</summary>
    private static long CachedPages(int fd, long offset, long length)
    {
        var range = new CachestatRange { Offset = (ulong)offset, Length = (ulong)length };
        var stat = new Cachestat();
        if (cachestat(451, fd, ref range, ref stat, 0) != 0) Assert.Inconclusive("no cachestat(2) on this kernel");
        return (long)stat.Cache;
    }

    [Test]
    public void WithInlineCachedReadsOffEveryReadGoesToAWorker()
    {
        using var loop = Loop.CreateReactor(new ReactorOptions { InlineCachedFileReads = false });
        using var files = new FileScript(loop);
        int fd = files.CreateFile("cached", new byte[8192]);
        var read = loop.ReadAtAsync(fd, new byte[4096], 0).AsTask();
        Assert.That(read.IsCompleted, Is.False, "queued for a worker");
        files.RunUntil(read);
        Assert.That(read.Result, Is.EqualTo(4096));
        Assert.That(PoolOf(loop).ThreadCount, Is.EqualTo(1));
    }

    [Test]
    public void AnODirectReadSkipsTheFastPath()
    {
        using var loop = Loop.CreateReactor();
        using var files = new FileScript(loop);
        File.WriteAllBytes(files.PathOf("d"), new byte[8192]);
        int fd;
        try { fd = files.Track(Posix.Open(files.PathOf("d"), FileOpenFlags.ReadOnly | FileOpenFlags.Direct)); }
        catch (LinuxEventException e) when (e.Errno == Errno.EINVAL) { Assert.Ignore("no O_DIRECT here"); return; }
        using var pool = new AlignedBufferPool(4096, 1);
        using var owner = pool.Rent();
        // RWF_NOWAIT would still wait for the device on an O_DIRECT fd: the read goes to a worker instead.
        var read = loop.ReadAtAsync(fd, owner.Memory, 0).AsTask();
        Assert.That(read.IsCompleted, Is.False);
        files.RunUntil(read);
        Assert.That(read.Result, Is.EqualTo(4096));
    }

    [Test]
    public void FileWorkerThreadsOutOfRangeIsRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Loop.CreateReactor(new ReactorOptions { FileWorkerThreads = 0 }));
        Assert.That(ex!.Message, Does.Contain("ReactorOptions.FileWorkerThreads"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loop.CreateReactor(new ReactorOptions { FileWorkerThreads = 1025 }));
    }
}
