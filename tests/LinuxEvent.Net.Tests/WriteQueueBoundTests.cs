namespace LinuxEvent.Net.Tests;

/// <summary>
/// The write queue's hard bound (<see cref="LoopStreamOptions.MaxQueuedBytes"/>): a peer that never reads makes the
/// stream close with <see cref="CloseReason.WriteQueueOverflow"/> instead of buffering without limit, while another
/// connection on the same loop carries on. On every backend: the fakes' peers "never read" because nobody completes
/// the proactor's sends, and the fake reactor's sends are real syscalls into a socket nobody drains.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class WriteQueueBoundTests(Backend backend) : FdCheckedTest
{
    private const int Cap = 64 * 1024;
    private static readonly byte[] s_chunk = new byte[8 * 1024];

    /// <summary>One turn of the loop: a fake runs until nothing is due, a real loop runs one iteration without waiting.</summary>
    private static void Turn(Loop loop)
    {
        if (loop.BackendName == "fake") loop.RunFakeUntilIdle();
        else loop.RunOnce(TimeSpan.Zero);
    }

    [Test]
    public void APeerThatNeverReadsClosesTheStreamAtTheCapAndOtherConnectionsKeepGoing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var (c, d) = Posix.SocketPair();
        try
        {
            Net.SetSendBuffer(a, 4096);
            Net.SetReceiveBuffer(b, 4096);
            var options = new LoopStreamOptions { HighWatermark = 16 * 1024, LowWatermark = 4 * 1024, MaxQueuedBytes = Cap, FdKind = StreamFdKind.Socket };
            var slow = new LoopStream(loop, a, options);
            var healthy = new LoopStream(loop, c, options);
            var events = new List<string>();
            Exception? reported = null;
            slow.OnError = (_, ex) => { reported = ex; events.Add("error"); };
            slow.OnClose = (_, r) => events.Add("close:" + r);

            int maxQueued = 0, writes = 0, refused = 0;
            for (int i = 0; i < 1000 && !slow.IsClosed; i++)
            {
                bool accepted = slow.Write(s_chunk);
                writes++;
                if (slow.IsClosed) { Assert.That(accepted, Is.False, "the write that overflows is refused"); refused++; }
                Assert.That(events, Is.Empty, "OnError/OnClose run from the deferred phase, never inside Write");
                maxQueued = Math.Max(maxQueued, slow.QueuedBytes);

                healthy.Write(s_chunk.AsSpan(0, 1024));
                Turn(loop);
                ScriptedPeer.Reads(loop, c, d);
                Turn(loop);
            }

            Assert.That(slow.IsClosed, Is.True, $"the slow stream closed ({writes} writes of {s_chunk.Length} bytes)");
            Assert.That(refused, Is.EqualTo(1));
            Assert.That(maxQueued, Is.LessThanOrEqualTo(Cap), "the queue never went past the cap");
            loop.RunUntil(() => events.Count == 2);
            Assert.That(events, Is.EqualTo(new[] { "error", "close:" + CloseReason.WriteQueueOverflow }));
            Assert.That(slow.CloseReason, Is.EqualTo(CloseReason.WriteQueueOverflow));
            var overflow = reported as WriteQueueOverflowException;
            Assert.That(overflow, Is.Not.Null, $"OnError got {reported?.GetType().Name}");
            Assert.That(slow.Error, Is.SameAs(overflow));
            Assert.That(overflow!.MaxQueuedBytes, Is.EqualTo(Cap));
            Assert.That(overflow.QueuedBytes + overflow.WriteBytes, Is.GreaterThan(Cap));
            Assert.That(overflow.Message, Does.Contain("MaxQueuedBytes"));
            Assert.That(slow.Write(s_chunk), Is.False, "a closed stream drops writes");

            // The other connection is untouched and still moves bytes.
            Assert.That(healthy.IsClosed, Is.False);
            long before = healthy.BytesSent;
            for (int i = 0; i < 4; i++)
            {
                healthy.Write(s_chunk.AsSpan(0, 1024));
                Turn(loop);
                ScriptedPeer.Reads(loop, c, d);
            }
            loop.RunUntil(() => healthy.BytesSent == before + 4096);
            healthy.Close();
            Turn(loop);
        }
        finally
        {
            Posix.Close(b);
            Posix.Close(d);
        }
    }

    [Test]
    public void WritesUpToTheCapAreAcceptedAndTheCapMustCoverTheHighWatermark()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var bad = new LoopStreamOptions { HighWatermark = 1000, LowWatermark = 10, MaxQueuedBytes = 999 };
            Assert.That(() => new LoopStream(loop, a, bad), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("MaxQueuedBytes"));
            Net.SetSendBuffer(a, 4096);
            var s = new LoopStream(loop, a, new LoopStreamOptions { HighWatermark = 1000, LowWatermark = 10, MaxQueuedBytes = 1000, FdKind = StreamFdKind.Socket });
            // Fill the kernel first so the rest queues (the reactor sends at once; the proactor queues anyway).
            while (s.QueuedBytes == 0 && !s.IsClosed) s.Write(new byte[100]);
            Assume.That(s.IsClosed, Is.False);
            while (s.QueuedBytes + 100 <= 1000) s.Write(new byte[100]);
            Assert.That(s.IsClosed, Is.False, "up to the cap is fine");
            s.Write(new byte[1000 - s.QueuedBytes]);
            Assert.That(s.IsClosed, Is.False, "exactly the cap is fine");
            s.Write(new byte[1]);
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.WriteQueueOverflow));
            Turn(loop);
        }
        finally { Posix.Close(b); }
    }
}
