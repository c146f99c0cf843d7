namespace LinuxEvent.Net.Tests;

/// <summary>
/// "Stop, Join, Dispose from another thread": a proactor run on a worker thread, stopped and joined, then disposed by
/// the thread that started it while receives (plain, multishot into provided buffers, two streams') and a multishot
/// accept are still in flight, releases the ring, every pin and the provided buffers instead of abandoning them. With
/// SINGLE_ISSUER | DEFER_TASKRUN the disposing thread may not enter the ring, so this is the path where the kernel
/// cannot be waited on the usual way.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class CrossThreadProactorDisposalTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Mappings of io_uring rings (SQ, CQ, SQEs) in this process.</summary>
    private static int RingMappings() => File.ReadLines("/proc/self/maps").Count(l => l.Contains("io_uring", StringComparison.Ordinal));

    /// <summary>What the worker armed, and the peers of the sockets with receives in flight.</summary>
    private sealed class Armed
    {
        public int S1, S2, R1, R2, Peer1, Peer2, RPeer1, RPeer2, ListenFd;
        public Operation? Receive, Multishot;
        public LoopStream? Stream1, Stream2;
        public int Live, Pinned;
        public Exception? Failure;
        public readonly ManualResetEventSlim LeftRun = new();

        public void CloseTestEnds()
        {
            foreach (int fd in new[] { R1, R2, Peer1, Peer2, RPeer1, RPeer2 }) Posix.CloseQuietly(fd);
            LeftRun.Dispose();
        }
    }

    /// <summary>
    /// Starts a worker that arms everything on <paramref name="loop"/> (so it owns the ring), runs it until Stop, and
    /// then waits for <paramref name="leave"/> before its thread ends (null: it ends at once).
    /// </summary>
    private static (Thread Worker, Armed State) StartWorker(Loop loop, ManualResetEventSlim armed, ManualResetEventSlim? leave)
    {
        var p = (ProactorLoop)loop;
        var a = new Armed();
        (a.S1, a.Peer1) = Posix.SocketPair();
        (a.S2, a.Peer2) = Posix.SocketPair();
        (a.R1, a.RPeer1) = Posix.SocketPair();
        (a.R2, a.RPeer2) = Posix.SocketPair();
        a.ListenFd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var worker = new Thread(() =>
        {
            try
            {
                loop.RunOnce(TimeSpan.Zero);
                a.Stream1 = new LoopStream(loop, a.S1);
                a.Stream2 = new LoopStream(loop, a.S2);
                _ = a.Stream1.ReadAsync(new byte[64]).AsTask();
                a.Stream2.OnData = (_, _) => { };
                a.Stream2.Start();
                a.Receive = p.Receive(a.R1, new byte[256]);
                var pool = p.CreateBufferPool(8, 512);
                a.Multishot = p.ReceiveMultishot(a.R2, pool, (_, _) => { });
                _ = Listener.FromSocket(loop, a.ListenFd, ownsSocket: true, (_, c) => Posix.Close(c.Fd));
                loop.RunOnce(TimeSpan.Zero);             // submitted: the kernel holds them now
                loop.RunOnce(TimeSpan.Zero);
                a.Live = p.LiveOperationCount;
                a.Pinned = p.PinnedOperationCount;
                armed.Set();
                loop.Run();
            }
            catch (Exception ex) { a.Failure = ex; armed.Set(); }
            a.LeftRun.Set();
            leave?.Wait(Bound);
        });
        worker.Start();
        return (worker, a);
    }

    /// <summary>The kernel dropped its requests' file references: closing our ends reaches every peer as EOF. (A ring
    /// that is still alive keeps the sockets open under its pending receives.)</summary>
    private static void AssertPeersSeeEof(Armed a)
    {
        Posix.Close(a.R1);
        Posix.Close(a.R2);
        a.R1 = a.R2 = -1;
        var buf = new byte[16];
        foreach (int peer in new[] { a.Peer1, a.Peer2, a.RPeer1, a.RPeer2 })
            Assert.That(SpinWait.SpinUntil(() => Posix.TryRead(peer, buf) == 0, Bound), Is.True, $"peer fd {peer} saw EOF");
    }

    [Test]
    public void StopJoinThenDisposeFromTheStartingThreadReleasesRingPinsAndBuffers()
    {
        int mappingsBefore = RingMappings();
        var loop = backend.Create();
        var p = (ProactorLoop)loop;
        using var armed = new ManualResetEventSlim();
        var (worker, a) = StartWorker(loop, armed, leave: null);
        try
        {
            Assert.That(armed.Wait(Bound), Is.True, "the worker armed its operations");
            Assert.That(a.Failure, Is.Null);
            Assert.That(a.Live, Is.GreaterThanOrEqualTo(4), "receives and the accept were in flight");
            Assert.That(a.Pinned, Is.GreaterThanOrEqualTo(1), "the plain receive's buffer was pinned");

            loop.Stop();
            Assert.That(worker.Join(Bound), Is.True, "Run returned after Stop");
            Assert.That(a.Failure, Is.Null);

            loop.Dispose();                              // from the test thread: not the ring's owner

            using (Assert.EnterMultipleScope())
            {
                Assert.That(p.AbandonedAtDispose, Is.False, "disposal abandoned the ring (leaked pins, mappings, buffers)");
                Assert.That(p.LiveOperationCount, Is.Zero, "every operation settled");
                Assert.That(p.PinnedOperationCount, Is.Zero, "every pin was released");
                Assert.That(a.Receive!.State, Is.EqualTo(OperationState.Cancelled));
                Assert.That(a.Multishot!.State, Is.Not.EqualTo(OperationState.Pending));
                Assert.That(a.Stream1!.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
                Assert.That(a.Stream2!.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
                Assert.That(RingMappings(), Is.EqualTo(mappingsBefore), "the ring is unmapped");
            }
            AssertPeersSeeEof(a);
        }
        finally { a.CloseTestEnds(); }
    }

    /// <summary>
    /// The owner thread left Run but is still alive (a pool thread, or one with more to do): its io-wq workers may still
    /// write into the loop's memory, so on io_uring the pins and provided buffers are deliberately leaked. The ring
    /// itself is still released (unmapped and closed), so the kernel cancels the requests and the sockets close. The
    /// fake has no kernel to wait for and releases everything.
    /// </summary>
    [Test]
    public void DisposeWhileTheStoppedOwnerThreadLivesReleasesTheRingAndLeaksOnlyWhatTheKernelMayTouch()
    {
        int mappingsBefore = RingMappings();
        var loop = backend.Create();
        var p = (ProactorLoop)loop;
        using var armed = new ManualResetEventSlim();
        using var leave = new ManualResetEventSlim();
        var (worker, a) = StartWorker(loop, armed, leave);
        try
        {
            Assert.That(armed.Wait(Bound), Is.True, "the worker armed its operations");
            Assert.That(a.Failure, Is.Null);
            loop.Stop();
            Assert.That(a.LeftRun.Wait(Bound), Is.True, "Run returned after Stop");
            Assert.That(a.Failure, Is.Null);

            loop.Dispose();                              // the owner thread is alive (waiting on `leave`), not in Run

            using (Assert.EnterMultipleScope())
            {
                Assert.That(p.AbandonedAtDispose, Is.EqualTo(!backend.IsFake));
                Assert.That(p.LiveOperationCount, Is.Zero, "every operation settled");
                if (backend.IsFake) Assert.That(p.PinnedOperationCount, Is.Zero);
                else Assert.That(p.PinnedOperationCount, Is.GreaterThanOrEqualTo(1), "the receive's pin is leaked on purpose");
                Assert.That(a.Receive!.State, Is.EqualTo(OperationState.Cancelled));
                Assert.That(RingMappings(), Is.EqualTo(mappingsBefore), "the ring is unmapped even when abandoned");
            }
            AssertPeersSeeEof(a);
        }
        finally
        {
            leave.Set();
            worker.Join(Bound);
            a.CloseTestEnds();
        }
    }
}
