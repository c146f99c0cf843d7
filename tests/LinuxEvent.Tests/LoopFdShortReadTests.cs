using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// The reactor registration's short-read rule: after a short read the next receive waits for an edge, unless the peer
/// is streaming. Only the fake can hold an edge back, which is what makes the rule observable; epoll cannot.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeReactors))]
public class LoopFdShortReadTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AfterAShortReadTheNextReceiveWaitsForAnEdgeAndAFullReadTriesAgainAtOnce()
    {
        // On the fake, data written without an injected edge is invisible to a parked receive: that shows whether the
        // registration probed the socket (recv) or waited for the edge, i.e. the short-read rule itself.
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var fd = loop.Register(a);
            var results = new List<string>();
            loop.Run(async () =>
            {
                Posix.Write(b, "12345678"u8);
                var buf = new byte[4];
                int n = await fd.ReceiveAsync(buf);                // full read (4 of 8): still readable
                results.Add(Encoding.ASCII.GetString(buf, 0, n));
                n = await fd.ReceiveAsync(buf);                    // tried at once, no edge needed
                results.Add(Encoding.ASCII.GetString(buf, 0, n));
                var big = new byte[16];
                Posix.Write(b, "ab"u8);
                var t = fd.ReceiveAsync(big).AsTask();             // tries (readable), gets "ab": short read
                results.Add(Encoding.ASCII.GetString(big, 0, await t));
                Posix.Write(b, "cd"u8);                             // no edge injected yet
                var parked = fd.ReceiveAsync(big).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
                results.Add(parked.IsCompleted ? "completed without an edge" : "parked");
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await parked));
            });
            Assert.That(results, Is.EqualTo(new[] { "1234", "5678", "ab", "parked", "cd" }));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void AStreamingPeerKeepsTheNextReceiveTryingAfterAShortRead()
    {
        // Data that arrives while nobody waits (an edge with no parked receive) marks the peer as streaming: after a
        // short read the next receive then tries at once instead of waiting for an edge, because more has most likely
        // been queued meanwhile. Seen through the fake's explicit edges.
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var fd = loop.Register(a);
            var results = new List<string>();
            loop.Run(async () =>
            {
                var big = new byte[16];
                Posix.Write(b, "ab"u8);
                loop.Fake!.Inject(a, Readiness.Readable);       // an edge while no receive waits
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                results.Add(Encoding.ASCII.GetString(big, 0, await fd.ReceiveAsync(big)));   // short read
                Posix.Write(b, "cd"u8);                          // queued, no edge injected
                var next = fd.ReceiveAsync(big).AsTask();
                results.Add(next.IsCompleted ? "tried at once" : "parked");
                results.Add(Encoding.ASCII.GetString(big, 0, await next));
                // Now a receive parks (EAGAIN) and its edge arrives while it waits: back to waiting after short reads.
                var parked = fd.ReceiveAsync(big).AsTask();
                Posix.Write(b, "ef"u8);
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await parked));
                Posix.Write(b, "gh"u8);                          // no edge
                var after = fd.ReceiveAsync(big).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
                results.Add(after.IsCompleted ? "completed without an edge" : "parked");
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await after));
            });
            Assert.That(results, Is.EqualTo(new[] { "ab", "tried at once", "cd", "ef", "parked", "gh" }));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }
}
