using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// A LoopStream on the fake proactor, scripted with what the fake now shows and does: the bytes a server replies
/// (read from the pending send), and a receive that completes after the stream's PauseRead cancelled it, whose bytes
/// must not be lost.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class FakeScriptedStreamTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ATestReadsWhatTheServerReplied()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec() });
        s.OnMessage = (x, line) => x.WriteMessage(Encoding.ASCII.GetString(line) == "PING" ? "+PONG"u8 : "-ERR"u8);
        s.Start();
        fake.CompleteReceive(fake.Pending.Single(o => o.Kind == OperationKind.Receive), "PING\nNOPE\n"u8);
        fake.RunUntilIdle();
        var replied = new StringBuilder();
        for (int i = 0; i < 10 && fake.Pending.SingleOrDefault(o => o.Kind == OperationKind.Send) is { } send; i++)
        {
            // The first reply went out at once; the second waited in the queue for the send in flight.
            replied.Append(Encoding.ASCII.GetString(fake.GetWriteBuffer(send).Span));
            fake.Complete(send, fake.GetBufferLength(send));
            fake.RunUntilIdle();
        }
        Assert.That(replied.ToString(), Is.EqualTo("+PONG\n-ERR\n"));
        s.Close();
        fake.RunUntilIdle();
        Posix.Close(b);
    }

    [Test]
    public void BytesOfAReceiveThatWonTheRaceWithPauseReadAreDeliveredAfterResume()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        fake.CancelMode = FakeCancelMode.Scripted;
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a);
        var got = new StringBuilder();
        s.OnData = (_, d) => got.Append(Encoding.ASCII.GetString(d));
        s.Start();
        var receive = fake.Pending.Single(o => o.Kind == OperationKind.Receive);
        s.PauseRead();                                          // cancels the receive: a request, on io_uring
        Assert.That(fake.CancelRequests, Is.EqualTo(new[] { receive }));
        fake.CompleteReceive(receive, "raced in"u8);            // ...but the data had arrived: the completion wins
        fake.RunUntilIdle();
        Assert.That(got.ToString(), Is.Empty, "paused: nothing is delivered");
        Assert.That(fake.Pending.Count(o => o.Kind == OperationKind.Receive), Is.Zero, "and nothing new is received");
        s.ResumeRead();
        fake.RunUntilIdle();
        Assert.That(got.ToString(), Is.EqualTo("raced in"), "kept, and delivered after the resume");
        s.Close();
        foreach (var op in fake.CancelRequests.ToArray()) fake.ConfirmCancel(op);
        fake.RunUntilIdle();
        Assert.That(loop.LiveOperationCount, Is.Zero);
        Posix.Close(b);
    }
}
