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

    [Test]
    public void StopJoinThenDisposeFromTheStartingThreadReleasesRingPinsAndBuffers()
    {
        int mappingsBefore = RingMappings();
        var loop = backend.Create();
        var p = (ProactorLoop)loop;
        var (s1, peer1) = Posix.SocketPair();
        var (s2, peer2) = Posix.SocketPair();
        var (r1, rpeer1) = Posix.SocketPair();
        var (r2, rpeer2) = Posix.SocketPair();
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var receiveBuffer = new byte[256];
        Operation? receive = null, multishot = null;
        LoopStream? stream1 = null, stream2 = null;
        Listener? listener = null;
        ProvidedBufferPool? pool = null;
        int liveWhileRunning = 0, pinnedWhileRunning = 0;
        Exception? failure = null;
        using var armed = new ManualResetEventSlim();
        var worker = new Thread(() =>
        {
            try
            {
                // Everything is created on the worker: it becomes the ring's owner (SINGLE_ISSUER submitter).
                loop.RunOnce(TimeSpan.Zero);
                stream1 = new LoopStream(loop, s1);
                stream2 = new LoopStream(loop, s2);
                _ = stream1.ReadAsync(new byte[64]).AsTask();
                stream2.OnData = (_, _) => { };
                stream2.Start();
                receive = p.Receive(r1, receiveBuffer);
                pool = p.CreateBufferPool(8, 512);
                multishot = p.ReceiveMultishot(r2, pool, (_, _) => { });
                listener = Listener.FromSocket(loop, lfd, ownsSocket: true, (_, c) => Posix.Close(c.Fd));
                loop.RunOnce(TimeSpan.Zero);             // submitted: the kernel holds them now
                loop.RunOnce(TimeSpan.Zero);
                liveWhileRunning = p.LiveOperationCount;
                pinnedWhileRunning = p.PinnedOperationCount;
                armed.Set();
                loop.Run();
            }
            catch (Exception ex) { failure = ex; armed.Set(); }
        });
        try
        {
            worker.Start();
            Assert.That(armed.Wait(Bound), Is.True, "the worker armed its operations");
            Assert.That(failure, Is.Null);
            Assert.That(liveWhileRunning, Is.GreaterThanOrEqualTo(4), "receives and the accept were in flight");
            Assert.That(pinnedWhileRunning, Is.GreaterThanOrEqualTo(1), "the plain receive's buffer was pinned");

            loop.Stop();
            Assert.That(worker.Join(Bound), Is.True, "Run returned after Stop");
            Assert.That(failure, Is.Null);

            loop.Dispose();                              // from the test thread: not the ring's owner

            using (Assert.EnterMultipleScope())
            {
            Assert.That(p.AbandonedAtDispose, Is.False, "disposal abandoned the ring (leaked pins, mappings, buffers)");
            Assert.That(p.LiveOperationCount, Is.Zero, "every operation settled");
            Assert.That(p.PinnedOperationCount, Is.Zero, "every pin was released");
            Assert.That(receive!.State, Is.EqualTo(OperationState.Cancelled));
            Assert.That(multishot!.State, Is.Not.EqualTo(OperationState.Pending));
            Assert.That(stream1!.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
            Assert.That(stream2!.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
            Assert.That(RingMappings(), Is.EqualTo(mappingsBefore), "the ring is unmapped");
            }

            // The kernel dropped its requests' file references: closing our ends reaches the peers as EOF. (A ring
            // that is still alive keeps the sockets open under its pending receives.)
            Posix.Close(r1);
            Posix.Close(r2);
            r1 = r2 = -1;
            var buf = new byte[16];
            foreach (int peer in new[] { peer1, peer2, rpeer1, rpeer2 })
                Assert.That(SpinWait.SpinUntil(() => Posix.TryRead(peer, buf) == 0, Bound), Is.True, $"peer fd {peer} saw EOF");
        }
        finally
        {
            foreach (int fd in new[] { r1, r2, peer1, peer2, rpeer1, rpeer2 }) Posix.CloseQuietly(fd);
        }
    }
}
