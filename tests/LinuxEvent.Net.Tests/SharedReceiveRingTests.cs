using System.Text;
using LinuxEvent.Proactor;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// The proactor's loop-wide provided-buffer ring under stream channels, on real io_uring: many streams on a ring much
/// smaller than their traffic (ENOBUFS re-arms), chunks larger than a stream's receive size, a close in the middle of a
/// delivery, registration on the loop thread, and the per-stream fallback when the ring cannot be registered.
/// </summary>
[TestFixture]
public class SharedReceiveRingTests : FdCheckedTest
{
    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)((i * 7 + seed) % 251);
        return b;
    }

    [Test]
    public void ManyStreamsOnATinyRingRunItDryAndLoseNoByte()
    {
        // 2 buffers of 256 bytes for 16 streams receiving 64 KiB each at once: the kernel ends multishot receives with
        // ENOBUFS again and again; each is re-armed once buffers are back, and every byte arrives in order.
        using var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.SharedBufferRing, bufferCount: 2, bufferSize: 256);
        const int N = 16, Size = 64 * 1024;
        var pairs = new (int A, int B)[N];
        var streams = new LoopStream[N];
        var received = new MemoryStream[N];
        for (int i = 0; i < N; i++)
        {
            pairs[i] = Posix.SocketPair();
            received[i] = new MemoryStream();
            var sink = received[i];
            streams[i] = new LoopStream(loop, pairs[i].A) { OnData = (_, d) => sink.Write(d) };
            streams[i].Start();
        }
        var sent = new int[N];
        var patterns = Enumerable.Range(0, N).Select(i => Pattern(Size, i)).ToArray();
        loop.RunUntil(() =>
        {
            // Keep every peer's socket buffer topped up, so all streams have data at once.
            for (int i = 0; i < N; i++)
                if (sent[i] < Size)
                {
                    int n = Posix.TryWrite(pairs[i].B, patterns[i].AsSpan(sent[i]));
                    if (n > 0) sent[i] += n;
                }
            return received.All(r => r.Length == Size);
        }, TimeSpan.FromSeconds(30));
        for (int i = 0; i < N; i++) Assert.That(received[i].ToArray(), Is.EqualTo(patterns[i]), $"stream {i}");
        var backend = (UringProactorBackend)loop.Backend;
        Assert.That(backend.MultishotRearms, Is.GreaterThan(0), "the ring ran dry and receives were re-armed");
        Assert.That(streams.All(s => ((ProactorStreamChannel)s.Channel).UsesSharedRing), Is.True);

        foreach (var s in streams) s.Close();
        loop.RunUntil(() => streams.All(s => s.Completion.IsCompleted));
        Streams.Settle(loop);
        foreach (var (_, b) in pairs) Posix.Close(b);
    }

    [Test]
    public void AChunkLargerThanTheStreamsReceiveSizeArrivesInPiecesOfThatSize()
    {
        using var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.SharedBufferRing, bufferSize: 16 * 1024);
        var (a, b) = Posix.SocketPair();
        var sizes = new List<int>();
        var got = new MemoryStream();
        var s = new LoopStream(loop, a, new LoopStreamOptions { ReceiveBufferSize = 100 });
        s.OnData = (_, d) => { sizes.Add(d.Length); got.Write(d); };
        s.Start();
        loop.RunOnce(TimeSpan.Zero);                          // armed
        var data = Pattern(5000, 1);
        Posix.Write(b, data);
        loop.RunUntil(() => got.Length == data.Length);
        Assert.That(got.ToArray(), Is.EqualTo(data));
        Assert.That(sizes.Max(), Is.LessThanOrEqualTo(100), "no delivery exceeds the stream's receive size");
        s.Close();
        loop.RunUntil(() => s.Completion.IsCompleted);
        Streams.Settle(loop);
        Posix.Close(b);
    }

    [Test]
    public void ClosingInsideADeliveryStopsTheRestOfThatChunkAndRecyclesTheBuffer()
    {
        using var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.SharedBufferRing, bufferCount: 4, bufferSize: 4096);
        var (a, b) = Posix.SocketPair();
        int deliveries = 0;
        var s = new LoopStream(loop, a, new LoopStreamOptions { ReceiveBufferSize = 10 });
        s.OnData = (st, _) => { deliveries++; st.Close(); };
        s.Start();
        loop.RunOnce(TimeSpan.Zero);
        Posix.Write(b, Pattern(1000, 2));
        loop.RunUntil(() => s.Completion.IsCompleted);
        Assert.That(deliveries, Is.EqualTo(1), "the 1000-byte chunk was cut into 10-byte pieces; the close stopped it after the first");
        Streams.Settle(loop);
        var ring = (ProactorStreamChannel)s.Channel;
        Assert.That(ring.UsesSharedRing, Is.True);
        var pool = ((ProactorLoop)loop).ProactorDriver.StreamRing.Pool!;
        Assert.That(pool.Users, Is.Zero, "the stream's multishot receive ended");

        // The ring still serves a new stream: every buffer came back.
        var (c, d) = Posix.SocketPair();
        var again = new MemoryStream();
        var s2 = new LoopStream(loop, c) { OnData = (_, x) => again.Write(x) };
        s2.Start();
        for (int i = 0; i < 8; i++)
        {
            Posix.Write(d, Pattern(4096, i));
            loop.RunUntil(() => again.Length == 4096 * (i + 1));
        }
        s2.Close();
        loop.RunUntil(() => s2.Completion.IsCompleted);
        Streams.Settle(loop);
        Posix.Close(b);
        Posix.Close(d);
    }

    [Test]
    public void AStreamStartedBeforeTheLoopRunsRegistersTheRingOnTheLoopThread()
    {
        // The ring is a SINGLE_ISSUER io_uring: registering the buffer ring from the thread that set the stream up
        // would bind the ring to it, and running the loop on another thread would then fail. The first arm waits for
        // the loop's own thread instead.
        var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.SharedBufferRing);
        var (a, b) = Posix.SocketPair();
        var got = new MemoryStream();
        var s = new LoopStream(loop, a) { OnData = (_, d) => got.Write(d) };
        s.Start();
        Assert.That(loop.ProactorDriver.StreamRing.Pool, Is.Null, "not registered from this thread");
        Posix.Write(b, "hello"u8);
        Exception? error = null;
        var runner = new Thread(() =>
        {
            try
            {
                loop.RunUntil(() => got.Length == 5);
                s.Close();
                loop.RunUntil(() => s.Completion.IsCompleted);
                Streams.Settle(loop);
                loop.Dispose();
            }
            catch (Exception ex) { error = ex; }
        });
        runner.Start();
        Assert.That(runner.Join(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(error, Is.Null, error?.ToString());
        Assert.That(Encoding.ASCII.GetString(got.ToArray()), Is.EqualTo("hello"));
        Assert.That(((ProactorStreamChannel)s.Channel).UsesSharedRing, Is.True);
        Posix.Close(b);
    }

    [Test]
    public void WhenTheRingCannotBeRegisteredAutoFallsBackToPerStreamReceives()
    {
        using var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.Auto);
        loop.RunOnce(TimeSpan.Zero);                          // the loop thread owns the ring
        loop.ProactorDriver.StreamRing.FailRegistrationForTesting = Errno.ENOMEM;
        var (a, b) = Posix.SocketPair();
        var got = new MemoryStream();
        var s = new LoopStream(loop, a) { OnData = (_, d) => got.Write(d) };
        s.Start();
        Posix.Write(b, "abc"u8);
        loop.RunUntil(() => got.Length == 3);
        Assert.That(((ProactorStreamChannel)s.Channel).UsesSharedRing, Is.False);
        Assert.That(s.Channel.HeldBufferBytes, Is.EqualTo(16 * 1024), "its own receive buffer, as before shared rings");
        s.Close();
        loop.RunUntil(() => s.Completion.IsCompleted);
        Streams.Settle(loop);
        Posix.Close(b);
    }

    [Test]
    public void WhenAnExplicitlyRequestedRingCannotBeRegisteredTheStreamFailsNamingTheCall()
    {
        using var loop = Streams.Proactor(ProactorBackend.Uring, StreamReceiveMode.SharedBufferRing);
        loop.RunOnce(TimeSpan.Zero);
        loop.ProactorDriver.StreamRing.FailRegistrationForTesting = Errno.ENOMEM;
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a) { OnData = (_, _) => { } };
        s.Start();
        loop.RunUntil(() => s.IsClosed);
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.Error));
        Assert.That(s.Error!.Message, Does.Contain("io_uring_register(PBUF_RING)").And.Contain("ENOMEM"));
        loop.RunUntil(() => s.Completion.IsCompleted);
        Posix.Close(b);
    }
}
