using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// LoopStream on scripted completions: the retry rules (EINTR, EAGAIN), the offset of a resumed partial send, and
/// pausing, which real sockets cannot force on demand.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class StreamScriptedCompletionTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ProactorRetriesEintrAndEagainAndResumesAPartialSendAtTheRightOffset()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a, new LoopStreamOptions { HighWatermark = 100, LowWatermark = 10 });
        var chunks = new List<string>();
        int drains = 0;
        s.OnData = (_, d) => chunks.Add(Encoding.ASCII.GetString(d));
        s.OnDrain = _ => drains++;
        s.Start();
        Operation Pending(OperationKind k) => fake.Pending.Single(o => o.Kind == k && o.FileDescriptor == a);

        fake.Fail(Pending(OperationKind.Receive), 4);          // EINTR
        fake.RunUntilIdle();
        fake.Fail(Pending(OperationKind.Receive), 11);         // EAGAIN
        fake.RunUntilIdle();
        fake.CompleteReceive(Pending(OperationKind.Receive), "abc"u8);
        fake.RunUntilIdle();
        Assert.That(chunks, Is.EqualTo(new[] { "abc" }));
        Assert.That(s.IsClosed, Is.False);

        Assert.That(s.Write(new byte[150]), Is.False, "150 bytes queued >= high watermark 100");
        var send = Pending(OperationKind.Send);
        fake.Complete(send, 60);                               // short send
        fake.RunUntilIdle();
        Assert.That(s.QueuedBytes, Is.EqualTo(90));
        Assert.That(drains, Is.Zero, "90 > low watermark");
        send = Pending(OperationKind.Send);
        Assert.Throws<ArgumentOutOfRangeException>(() => fake.Complete(send, 91), "the resubmitted send covers exactly the rest");
        fake.Fail(send, 4);                                    // EINTR on send: retried
        fake.RunUntilIdle();
        fake.Complete(Pending(OperationKind.Send), 85);
        fake.RunUntilIdle();
        Assert.That(drains, Is.EqualTo(1));
        fake.Complete(Pending(OperationKind.Send), 5);
        fake.RunUntilIdle();
        Assert.That(s.QueuedBytes, Is.Zero);
        Assert.That(s.BytesSent, Is.EqualTo(150));

        fake.Fail(Pending(OperationKind.Receive), 104);        // ECONNRESET
        fake.RunUntilIdle();
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.Error));
        Assert.That(((ILinuxEventError)s.Error!).ErrnoName, Is.EqualTo("ECONNRESET"));
        Assert.That(loop.LiveOperationCount, Is.Zero);
        Posix.Close(b);
    }

    [Test]
    public void ProactorPauseCancelsTheReceiveAndDisposingTheLoopClosesTheStream()
    {
        var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a);
        s.OnData = (_, _) => { };
        s.Start();
        Assert.That(fake.Pending.Count(o => o.Kind == OperationKind.Receive), Is.EqualTo(1));
        s.PauseRead();
        fake.RunUntilIdle();
        Assert.That(fake.Pending.Any(o => o.Kind == OperationKind.Receive), Is.False);
        s.ResumeRead();
        Assert.That(fake.Pending.Count(o => o.Kind == OperationKind.Receive), Is.EqualTo(1));
        s.Write("x"u8);
        loop.Dispose();                                         // cancels the receive and the send
        Assert.That(s.IsClosed, Is.True);
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
        Posix.Close(b);
    }
}
