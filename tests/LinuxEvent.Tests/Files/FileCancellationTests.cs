namespace LinuxEvent.Tests;

/// <summary>
/// What cancellation and loop disposal do to file requests in flight, on every backend. The contract (both models): a
/// request not yet started settles cancelled; one already running cannot be interrupted and settles with its real
/// result; either way exactly once, and never a hang. Reactor: "started" means a worker took it from the queue.
/// Proactor: io_uring cannot cancel a regular-file read the block layer already has (ASYNC_CANCEL answers -EALREADY or
/// -ENOENT), so such a read completes.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class FileCancellationTests(Backend backend) : FdCheckedTest
{
    private const int Block = 4096, Blocks = 256;

    /// <summary>A 1 MiB file whose block i is filled with (byte)i, opened with O_DIRECT where the file system allows it
    /// (so the reactor's page-cache fast path cannot finish reads before the cancel).</summary>
    private static int OpenPatternFile(FileScript files)
    {
        var content = new byte[Block * Blocks];
        for (int i = 0; i < content.Length; i++) content[i] = (byte)(i / Block);
        File.WriteAllBytes(files.PathOf("pattern"), content);
        return files.Track(OpenDirect(files.PathOf("pattern")));
    }

    private static int OpenDirect(string path)
    {
        try { return Posix.Open(path, FileOpenFlags.ReadOnly | FileOpenFlags.Direct); }
        catch (LinuxEventException e) when (e.Errno == Errno.EINVAL) { return Posix.Open(path, FileOpenFlags.ReadOnly); }
    }

    /// <summary>Cancels on the loop thread while the loop runs, as application code would (a cancel from outside the
    /// running loop is posted to it).</summary>
    private static void CancelOnLoop(Loop loop, CancellationTokenSource cts)
    {
        loop.Post(_ => cts.Cancel());
        loop.RunOnce(TimeSpan.Zero);
    }

    [Test]
    public void CancelledReadsSettleExactlyOnceAsCancelledOrWithTheirRealResult()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = OpenPatternFile(files);
        using var pool = new AlignedBufferPool(Block, 64);
        var rng = new Random(12);
        // On epoll the 4 workers may, on a busy machine, finish all 64 reads before the cancel reaches the loop; the
        // round is repeated (bounded) until the cancel finds requests still queued, which must then be dropped.
        for (int round = 0; round < 5; round++)
        {
            int cancelled = CancelARound(loop, files, fd, pool, rng);
            if (backend.Name != "ReactorEpoll" || cancelled > 0) return;
        }
        Assert.Fail("ReactorEpoll: in 5 rounds the cancel never found a read still queued for the 4 workers");
    }

    private int CancelARound(Loop loop, FileScript files, int fd, AlignedBufferPool pool, Random rng)
    {
        var owners = Enumerable.Range(0, 64).Select(_ => pool.Rent()).ToArray();
        using var cts = new CancellationTokenSource();
        var blocks = new int[64];
        var tasks = new Task<int>[64];
        for (int i = 0; i < 64; i++)
        {
            blocks[i] = rng.Next(Blocks);
            tasks[i] = loop.ReadAtAsync(fd, owners[i].Memory, (long)blocks[i] * Block, cts.Token).AsTask();
        }
        CancelOnLoop(loop, cts);
        files.RunUntil(() => tasks.All(t => t.IsCompleted));

        int cancelled = 0, completed = 0;
        for (int i = 0; i < 64; i++)
        {
            if (tasks[i].IsCanceled) { cancelled++; continue; }
            Assert.That(tasks[i].Status, Is.EqualTo(TaskStatus.RanToCompletion), $"read {i}: {tasks[i].Exception}");
            Assert.That(tasks[i].Result, Is.EqualTo(Block));
            Assert.That(owners[i].Memory.Span.ToArray(), Is.All.EqualTo((byte)blocks[i]), $"read {i} got its own block");
            completed++;
        }
        TestContext.Out.WriteLine($"{backend}: {cancelled} cancelled, {completed} completed");
        Assert.That(cancelled + completed, Is.EqualTo(64));
        if (backend.IsFake) Assert.That(cancelled, Is.EqualTo(64), "a fake request the test has not settled is not started");
        Assert.That(files.PendingCount, Is.Zero);
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
        foreach (var o in owners) o.Dispose();
        Assert.That(pool.Available, Is.EqualTo(64));
        return cancelled;
    }

    [Test]
    public void DisposingTheLoopSettlesEveryPendingFileRequest()
    {
        var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = OpenPatternFile(files);
        using var pool = new AlignedBufferPool(Block, 16);
        var owners = Enumerable.Range(0, 16).Select(_ => pool.Rent()).ToArray();
        var tasks = Enumerable.Range(0, 16).Select(i => loop.ReadAtAsync(fd, owners[i].Memory, (long)i * Block).AsTask()).ToArray();
        var fsync = loop.FsyncAsync(fd).AsTask();
        loop.Dispose();
        Assert.That(Task.WaitAll(tasks.Append(fsync).ToArray().Select(t => t.ContinueWith(_ => { })).ToArray(), TimeSpan.FromSeconds(20)), Is.True, "every await settled");
        int disposed = 0;
        for (int i = 0; i < 16; i++)
        {
            if (tasks[i].IsFaulted)
            {
                Assert.That(tasks[i].Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>());
                disposed++;
            }
            else Assert.That(tasks[i].Result, Is.EqualTo(Block), "a request that ran delivers its result");
        }
        TestContext.Out.WriteLine($"{backend}: {disposed} of 16 failed with ObjectDisposedException, the rest completed");
        if (backend.IsFake) Assert.That(disposed, Is.EqualTo(16));
        foreach (var o in owners) o.Dispose();
    }

    [Test]
    public void DisposingALoopFdSettlesItsFileRequests()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = OpenPatternFile(files);
        using var pool = new AlignedBufferPool(Block, 9);
        var owners = Enumerable.Range(0, 9).Select(_ => pool.Rent()).ToArray();
        var reg = loop.Register(OpenDirect(files.PathOf("pattern")), ownsFd: true);
        var tasks = Enumerable.Range(0, 8).Select(i => reg.ReadAtAsync(owners[i].Memory, (long)i * Block).AsTask()).ToArray();
        var other = loop.ReadAtAsync(fd, owners[8].Memory, 0).AsTask();        // another fd: not affected
        reg.Dispose();
        files.RunUntil(() => tasks.All(t => t.IsCompleted) && other.IsCompleted);
        foreach (var t in tasks)
        {
            if (t.IsFaulted) Assert.That(t.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>().With.Message.Contains("LoopFd"));
            else Assert.That(t.Result, Is.EqualTo(Block));
        }
        if (backend.IsFake) Assert.That(tasks.All(t => t.IsFaulted), Is.True, "nothing was started on the fake");
        Assert.That(other.Result, Is.EqualTo(Block));
        foreach (var o in owners) o.Dispose();
    }
}
