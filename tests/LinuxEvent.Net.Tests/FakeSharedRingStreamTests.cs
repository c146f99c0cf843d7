using System.Text;
using LinuxEvent.Proactor;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// The shared-ring receive path of the proactor's stream channel, scripted on the fake backend (where
/// <see cref="StreamReceiveMode.SharedBufferRing"/> must be asked for: Auto keeps one receive per stream there, as the
/// fake tests script it): chunks, EOF, errors, a ring run dry, pause and resume, reuse of one operation.
/// </summary>
public class FakeSharedRingStreamTests : FdCheckedTest
{
    private static (ProactorLoop Loop, FakeCompletions Fake, LoopStream Stream, int Peer, List<string> Got) Open(LoopStreamOptions? options = null)
    {
        var loop = Streams.Proactor(ProactorBackend.Fake, StreamReceiveMode.SharedBufferRing, bufferCount: 4, bufferSize: 64);
        var (a, b) = Posix.SocketPair();
        var got = new List<string>();
        var s = new LoopStream(loop, a, options);
        s.OnData = (_, d) => got.Add(Encoding.ASCII.GetString(d));
        s.Start();
        return (loop, loop.Fake!, s, b, got);
    }

    private static Operation Receive(FakeCompletions fake) => fake.Pending.Single(o => o.Kind == OperationKind.ReceiveMultishot);

    [Test]
    public void ChunksArriveUntilEofWhichEndsTheStream()
    {
        var (loop, fake, s, peer, got) = Open();
        using (loop)
        {
            var op = Receive(fake);
            fake.DeliverReceived(op, "hello "u8);
            fake.DeliverReceived(op, "world"u8);
            fake.RunUntilIdle();
            Assert.That(got, Is.EqualTo(new[] { "hello ", "world" }));
            Assert.That(op.State, Is.EqualTo(OperationState.Pending), "a multishot receive stays armed across chunks");
            bool ended = false;
            s.OnEnd = _ => ended = true;
            fake.Complete(op, 0);                             // the kernel ends a multishot recv at EOF with res 0
            fake.RunUntilIdle();
            Assert.That(ended, Is.True);
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.PeerClosed));
            Assert.That(loop.LiveOperationCount, Is.Zero);
        }
        Posix.Close(peer);
    }

    [Test]
    public void ARingRunDryIsReArmedWithTheSameOperationAndNoAllocation()
    {
        var (loop, fake, s, peer, got) = Open();
        using (loop)
        {
            var op = Receive(fake);
            // Warm up the path once (JIT, the ready ring of the loop), then measure one more ENOBUFS round.
            fake.Fail(op, Errno.ENOBUFS);
            fake.RunUntilIdle();
            Assert.That(Receive(fake), Is.SameAs(op), "re-armed with the same operation");
            long before = GC.GetAllocatedBytesForCurrentThread();
            fake.Fail(op, Errno.ENOBUFS);
            fake.RunUntilIdle();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(Receive(fake), Is.SameAs(op));
            Assert.That(allocated, Is.Zero, "re-arming allocates nothing");
            fake.DeliverReceived(op, "after"u8);
            fake.RunUntilIdle();
            Assert.That(got, Is.EqualTo(new[] { "after" }));
            Assert.That(s.IsClosed, Is.False);
            s.Close();
            fake.RunUntilIdle();
        }
        Posix.Close(peer);
    }

    [Test]
    public void AnErrorEndsTheStreamWithTheErrno()
    {
        var (loop, fake, s, peer, _) = Open();
        using (loop)
        {
            fake.Fail(Receive(fake), Errno.ECONNRESET);
            fake.RunUntilIdle();
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.Error));
            Assert.That(((ILinuxEventError)s.Error!).ErrnoName, Is.EqualTo("ECONNRESET"));
            Assert.That(s.Error!.Message, Does.Contain("recv("));
        }
        Posix.Close(peer);
    }

    [Test]
    public void PauseCancelsTheReceiveAChunkThatRacedItIsKeptAndResumeReArmsTheSameOperation()
    {
        var (loop, fake, s, peer, got) = Open();
        using (loop)
        {
            var op = Receive(fake);
            fake.DeliverReceived(op, "raced"u8);            // queued before the pause takes effect
            s.PauseRead();
            fake.RunUntilIdle();
            Assert.That(got, Is.Empty, "paused: the chunk is kept, not delivered");
            Assert.That(fake.Pending.Any(o => o.Kind == OperationKind.ReceiveMultishot), Is.False, "the receive was cancelled");
            s.ResumeRead();
            fake.RunUntilIdle();
            Assert.That(got, Is.EqualTo(new[] { "raced" }));
            Assert.That(Receive(fake), Is.SameAs(op), "resumed with the same operation");
            s.Close();
            fake.RunUntilIdle();
        }
        Posix.Close(peer);
    }

    [Test]
    public void AChunkIsCutToTheStreamsReceiveSize()
    {
        var (loop, fake, s, peer, got) = Open(new LoopStreamOptions { ReceiveBufferSize = 4 });
        using (loop)
        {
            fake.DeliverReceived(Receive(fake), "abcdefghij"u8);
            fake.RunUntilIdle();
            Assert.That(got, Is.EqualTo(new[] { "abcd", "efgh", "ij" }));
            s.Close();
            fake.RunUntilIdle();
        }
        Posix.Close(peer);
    }

    [Test]
    public void LoopDisposalClosesAStreamWithItsReceiveArmed()
    {
        var (loop, fake, s, peer, _) = Open();
        Assert.That(Receive(fake).State, Is.EqualTo(OperationState.Pending));
        loop.Dispose();
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
        Posix.Close(peer);
    }
}
