using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>LoopStream on scripted readiness: it reads on injected edges and keeps write interest only while bytes are queued.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeReactors))]
public class StreamScriptedReadinessTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void FakeReactorDeliversInjectedReadinessAndKeepsWriteInterestOnlyWhileQueued()
    {
        using var loop = (ReactorLoop)backend.Create();
        var fake = loop.Fake!;
        var (a, b) = Posix.SocketPair();
        Net.SetSendBuffer(a, 4096);
        var s = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec() });
        var got = new List<string>();
        s.OnMessage = (_, m) => got.Add(Encoding.ASCII.GetString(m));
        s.Start();
        Assert.That(fake.TryGetInterest(a, out var interest) && interest == WatchOptions.Read, Is.True);
        Posix.Write(b, "one\ntw"u8);
        fake.Inject(a, Readiness.Readable);
        fake.RunUntilIdle();
        Posix.Write(b, "o\n"u8);
        fake.Inject(a, Readiness.Readable);
        fake.RunUntilIdle();
        Assert.That(got, Is.EqualTo(new[] { "one", "two" }));
        s.Write(new byte[1 << 20]);                            // more than the socket takes: the rest waits
        Assert.That(fake.TryGetInterest(a, out interest) && interest == (WatchOptions.Read | WatchOptions.Write), Is.True);
        while (Net.Drain(b) is { Length: > 0 } || s.QueuedBytes > 0)
        {
            fake.Inject(a, Readiness.Writable);
            fake.RunUntilIdle();
        }
        Assert.That(fake.TryGetInterest(a, out interest) && interest == WatchOptions.Read, Is.True, "write interest dropped once drained");
        s.Close();
        fake.RunUntilIdle();
        Posix.Close(b);
    }
}
