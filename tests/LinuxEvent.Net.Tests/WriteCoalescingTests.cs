using LinuxEvent.Seam;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// The reactor's write coalescing (<see cref="ReactorOptions.CoalesceWrites"/>): LoopStream writes made in one loop
/// iteration go out in one send(2) per stream, counted through the driver's replaceable <see cref="Syscalls"/>.
/// Before it, the reactor made one send per Write (a pub/sub fan-out of 50,000 messages made 50,001 sendto calls).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Reactors))]
public class WriteCoalescingTests(Backend backend) : FdCheckedTest
{
    private const int Messages = 50;
    private static readonly byte[] s_message = "0123456789abcdefghi\n"u8.ToArray();

    /// <summary>The kernel's syscalls, counting send(2)/write(2) calls on one fd.</summary>
    private sealed class CountingSyscalls(Syscalls inner, int fd) : Syscalls
    {
        public int Sends;

        public override int Send(int f, ReadOnlySpan<byte> buffer)
        {
            if (f == fd) Sends++;
            return inner.Send(f, buffer);
        }

        public override int Write(int f, ReadOnlySpan<byte> buffer)
        {
            if (f == fd) Sends++;
            return inner.Write(f, buffer);
        }
    }

    private ReactorLoop Create(bool coalesce) => coalesce
        ? (ReactorLoop)backend.Create()
        : Loop.CreateReactor(new ReactorOptions { Backend = backend.IsFake ? ReactorBackend.Fake : ReactorBackend.Epoll, CoalesceWrites = false });

    private static CountingSyscalls Count(ReactorLoop loop, int fd)
    {
        var counting = new CountingSyscalls(loop.ReactorDriver.Sys, fd);
        loop.ReactorDriver.Sys = counting;
        return counting;
    }

    /// <summary>The peer sends a byte; a fake reactor is told the fd is readable (epoll sees it by itself).</summary>
    private static void Poke(ReactorLoop loop, int fd, int peer)
    {
        Posix.Write(peer, "x"u8);
        loop.Fake?.Inject(fd, Readiness.Readable);
    }

    private static int ReadAll(int fd, Span<byte> into)
    {
        int total = 0;
        while (total < into.Length)
        {
            int n = Posix.TryRead(fd, into.Slice(total));
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>One callback writes <see cref="Messages"/> messages; returns how many send syscalls carried them, after
    /// checking the peer got every byte in order and the stream's queue is empty.</summary>
    private int SendsForWritesInOneCallback(bool coalesce)
    {
        using var loop = Create(coalesce);
        var (a, b) = Posix.SocketPair();
        try
        {
            var stream = new LoopStream(loop, a, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            var counting = Count(loop, a);
            stream.OnData = (s, _) =>
            {
                for (int i = 0; i < Messages; i++) s.Write(s_message);
            };
            stream.Start();
            var received = new byte[Messages * s_message.Length];
            int got = 0;
            Poke(loop, a, b);
            loop.RunUntil(() => (got += ReadAll(b, received.AsSpan(got))) == received.Length);
            for (int i = 0; i < Messages; i++) Assert.That(received.AsSpan(i * s_message.Length, s_message.Length).SequenceEqual(s_message), Is.True);
            Assert.That(stream.QueuedBytes, Is.Zero);
            Assert.That(stream.BytesSent, Is.EqualTo(received.Length));
            int sends = counting.Sends;
            stream.Close();
            loop.RunOnce(TimeSpan.Zero);
            return sends;
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void ManyWritesInOneCallbackGoOutInOneSend() =>
        Assert.That(SendsForWritesInOneCallback(coalesce: true), Is.EqualTo(1), $"{Messages} writes in one callback");

    [Test]
    public void WithCoalescingOffEachWriteIsASend() =>
        Assert.That(SendsForWritesInOneCallback(coalesce: false), Is.EqualTo(Messages));

    [Test]
    public void WritesFromSeveralCallbacksOfOneIterationShareTheSendAndAReplyBeforeCloseStillGoesOut()
    {
        using var loop = Create(coalesce: true);
        var (a, b) = Posix.SocketPair();
        try
        {
            var stream = new LoopStream(loop, a, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            var counting = Count(loop, a);
            stream.OnData = (s, _) =>
            {
                s.Write("one\n"u8);
                loop.Defer(static st => ((LoopStream)st!).Write("two\n"u8), s);      // same iteration, deferred phase
                loop.After(TimeSpan.FromMilliseconds(1), _ => { stream.Write("three\n"u8); stream.Close(); });   // later: write, then close
            };
            stream.Start();
            var received = new byte[14];
            int got = 0;
            Poke(loop, a, b);
            loop.RunUntil(() => stream.IsClosed && (got += ReadAll(b, received.AsSpan(got))) == received.Length);
            Assert.That(System.Text.Encoding.ASCII.GetString(received), Is.EqualTo("one\ntwo\nthree\n"));
            Assert.That(counting.Sends, Is.EqualTo(2), "one send for the first iteration's two writes, one for the write before Close");
            Assert.That(Posix.TryRead(b, new byte[1]), Is.Zero, "then EOF");
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void WritesOutsideTheLoopGoOutAtOnce()
    {
        using var loop = Create(coalesce: true);
        var (a, b) = Posix.SocketPair();
        try
        {
            var stream = new LoopStream(loop, a, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            stream.Write("now"u8);
            Assert.That(stream.QueuedBytes, Is.Zero, "no iteration end is coming: sent inside Write");
            Assert.That(Streams.Drain(b), Is.EqualTo("now"));
            stream.Close();
            loop.RunOnce(TimeSpan.Zero);
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void CoalescedFanOutAllocatesNothingPerIteration()
    {
        using var loop = Create(coalesce: true);
        var (a, b) = Posix.SocketPair();
        try
        {
            var stream = new LoopStream(loop, a, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            stream.OnData = static (s, _) =>
            {
                for (int i = 0; i < Messages; i++) s.Write(s_message);
            };
            stream.Start();
            var received = new byte[Messages * s_message.Length];
            void Round()
            {
                Poke(loop, a, b);
                int got = 0;
                for (int i = 0; i < 100 && got < received.Length; i++)
                {
                    loop.RunOnce(TimeSpan.FromMilliseconds(100));
                    got += ReadAll(b, received.AsSpan(got));
                }
                if (got != received.Length) throw new AssertionException($"a round delivered {got} of {received.Length} bytes");
            }
            for (int i = 0; i < 5; i++) Round();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) Round();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(allocated, Is.Zero, $"{allocated} bytes over 200 rounds of {Messages} coalesced writes");
            stream.Close();
            loop.RunOnce(TimeSpan.Zero);
        }
        finally { Posix.Close(b); }
    }
}
