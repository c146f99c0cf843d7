using System.Buffers;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>LoopStream over real sockets, on the epoll reactor and the io_uring proactor.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public partial class StreamTests(Backend backend) : FdCheckedTest
{
    private static byte[] Pattern(int length, int seed = 0)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)((i + seed) % 251);
        return b;
    }

    /// <summary>Closes one stream and waits until it is done (other streams on the loop may still be open).</summary>
    private static void CloseAndSettle(Loop loop, LoopStream s)
    {
        s.Close();
        loop.RunUntil(() => s.Completion.IsCompleted);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
    }

    public static IEnumerable<TestCaseData> Codecs()
    {
        yield return new TestCaseData("line").SetArgDisplayNames("line");
        yield return new TestCaseData("netstring").SetArgDisplayNames("netstring");
        yield return new TestCaseData("u32be").SetArgDisplayNames("u32be");
    }

    private static IFrameCodec MakeCodec(string name, int max = 1024) => name switch
    {
        "line" => new LineCodec(max),
        "netstring" => new NetstringCodec(max),
        _ => new LengthPrefixedCodec(max),
    };

    [TestCaseSource(nameof(Codecs))]
    public void FramesSplitByteByByteAreReassembled(string codecName)
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var codec = MakeCodec(codecName);
        var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = codec });
        var got = new List<string>();
        stream.OnMessage = (_, m) => got.Add(Encoding.UTF8.GetString(m));
        stream.Start();

        string[] messages = ["hello", "", "wörld with spaces", new string('x', 300)];
        var wire = new MemoryStream();
        foreach (var m in messages)
        {
            var payload = Encoding.UTF8.GetBytes(m);
            var frame = new byte[codec.GetEncodedLength(payload.Length)];
            codec.Encode(payload, frame);
            wire.Write(frame);
        }
        var bytes = wire.ToArray();
        for (int i = 0; i < bytes.Length; i++)
        {
            Posix.Write(b, bytes.AsSpan(i, 1));
            loop.RunUntil(() => stream.BytesReceived == i + 1);
        }
        Assert.That(got, Is.EqualTo(messages));
        CloseAndSettle(loop, stream);
        Posix.Close(b);
    }

    [Test]
    public void LineLongerThanTheLimitClosesTheStreamBeforeAnyNewline()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(maxLineLength: 16) });
        Exception? error = null;
        var reasons = new List<CloseReason>();
        stream.OnMessage = (_, _) => Assert.Fail("no message expected");
        stream.OnError = (_, e) => error = e;
        stream.OnClose = (_, r) => reasons.Add(r);
        stream.Start();
        Posix.Write(b, Encoding.ASCII.GetBytes(new string('a', 17)));      // no newline at all
        loop.RunUntil(() => reasons.Count == 1);
        Assert.That(error, Is.InstanceOf<InvalidDataException>());
        Assert.That(error!.Message, Does.Contain("longer than 16"));
        Assert.That(reasons, Is.EqualTo(new[] { CloseReason.CodecError }));
        Assert.That(Net.Drain(b), Is.Null, "the peer sees the close");
        Posix.Close(b);
    }

    [Test]
    public void OversizeLengthPrefixIsRejectedOnTheHeaderAlone()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LengthPrefixedCodec(maxFrameLength: 1000) });
        stream.OnMessage = (_, _) => Assert.Fail("no message expected");
        stream.Start();
        Posix.Write(b, new byte[] { 0, 0x0F, 0x42, 0x40 });                  // announces 1,000,000 bytes; sends none
        loop.RunUntil(() => stream.IsClosed);
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.CodecError));
        Assert.That(stream.Error!.Message, Does.Contain("1000000").And.Contain("1000"));
        loop.RunUntil(() => stream.Completion.IsCompleted);
        Posix.Close(b);
    }

    [Test]
    public void WatermarksBlockAndDrainWithATinySendBufferAndPartialWritesKeepTheByteOrder()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server, new LoopStreamOptions { HighWatermark = 64 * 1024, LowWatermark = 8 * 1024 });
        int drains = 0;
        stream.OnDrain = s => { drains++; Assert.That(s.IsWriteBlocked, Is.False); Assert.That(s.QueuedBytes, Is.LessThanOrEqualTo(8 * 1024)); };

        const int total = 1 << 20;
        var data = Pattern(total);
        bool sawBlocked = false;
        for (int off = 0; off < total; off += 16 * 1024)
        {
            bool ok = stream.Write(data.AsSpan(off, 16 * 1024));
            if (!ok) { sawBlocked = true; Assert.That(stream.IsWriteBlocked, Is.True); }
        }
        Assert.That(sawBlocked, Is.True, "1 MiB into a 4 KiB socket buffer must hit the high watermark");
        loop.RunOnce(TimeSpan.FromMilliseconds(10));
        Assert.That(drains, Is.Zero, "nothing drains while the peer does not read");

        var received = new MemoryStream();
        loop.RunUntil(() =>
        {
            var chunk = Net.Drain(client);
            if (chunk is not null) received.Write(chunk);
            return received.Length == total;
        }, TimeSpan.FromSeconds(20));
        Assert.That(received.ToArray().AsSpan().SequenceEqual(data), Is.True, "bytes arrive complete and in order");
        Assert.That(drains, Is.GreaterThanOrEqualTo(1));
        Assert.That(stream.QueuedBytes, Is.Zero);
        Assert.That(stream.BytesSent, Is.EqualTo(total), $"{backend} drains={drains} queued={stream.QueuedBytes}");
        CloseAndSettle(loop, stream);
        Posix.Close(client);
    }

    [Test]
    public void PeerResetMidWriteReportsTheErrnoAndClosesOnce()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        var errors = new List<Exception>();
        var reasons = new List<CloseReason>();
        stream.OnError = (_, e) => errors.Add(e);
        stream.OnClose = (_, r) => reasons.Add(r);
        stream.OnData = (_, _) => { };
        stream.Start();
        var chunk = Pattern(64 * 1024);
        for (int i = 0; i < 16; i++) stream.Write(chunk);
        loop.RunUntil(() => Net.Drain(client, 8192) is { Length: > 0 });    // some bytes are in flight and read
        Posix.Close(client);     // unread data in its receive queue: the kernel answers with RST
        loop.RunUntil(() => reasons.Count == 1);
        Assert.That(errors, Has.Count.EqualTo(1));
        var ex = errors[0] as LinuxEventSocketException;
        Assert.That(ex, Is.Not.Null, errors[0].ToString());
        Assert.That(ex!.Errno, Is.AnyOf(104, 32), ex.Message);              // ECONNRESET or EPIPE
        Assert.That(reasons, Is.EqualTo(new[] { CloseReason.Error }));
        Assert.That(stream.Write(chunk), Is.False, "writes after the failure are dropped");
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(reasons, Has.Count.EqualTo(1));
    }

    [Test]
    public void ShutdownWriteHalfClosesAndReadingContinues()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { PeerEnd = PeerEndBehavior.HalfOpen });
        var text = new StringBuilder();
        int ends = 0;
        stream.OnData = (_, d) => text.Append(Encoding.ASCII.GetString(d));
        stream.OnEnd = _ => ends++;
        stream.Start();
        stream.Write("bye"u8);
        stream.ShutdownWrite();
        Assert.Throws<InvalidOperationException>(() => stream.Write("more"u8));
        var got = Net.RunUntilEof(loop, b);              // "bye", then EOF
        Assert.That(Encoding.ASCII.GetString(got), Is.EqualTo("bye"));
        Posix.Write(b, "late"u8);
        loop.RunUntil(() => text.ToString() == "late");
        Assert.That(stream.IsClosed, Is.False);
        Posix.Shutdown(b, 1);
        loop.RunUntil(() => stream.IsClosed);
        Assert.That(ends, Is.EqualTo(1));
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.PeerClosed), "both directions done: closes by itself");
        loop.RunUntil(() => stream.Completion.IsCompleted);
        Posix.Close(b);
    }

    [Test]
    public void PeerEofDoesNotDropQueuedWrites()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        stream.OnData = (_, _) => { };
        string? lastWordAtEnd = null;
        stream.OnEnd = s => { s.Write("END"u8); lastWordAtEnd = "written"; };
        stream.Start();
        var data = Pattern(512 * 1024, seed: 7);
        stream.Write(data);
        Assert.That(stream.QueuedBytes, Is.GreaterThan(0));
        Posix.Shutdown(client, 1);                      // the peer is done sending, still reading
        loop.RunUntil(() => stream.IsPeerEnded && lastWordAtEnd is not null);
        Assert.That(stream.IsClosed, Is.False, "queued writes keep the stream open");
        var received = Net.RunUntilEof(loop, client, TimeSpan.FromSeconds(20));
        Assert.That(received.Length, Is.EqualTo(data.Length + 3));
        Assert.That(received.AsSpan(0, data.Length).SequenceEqual(data), Is.True);
        Assert.That(Encoding.ASCII.GetString(received, data.Length, 3), Is.EqualTo("END"));
        loop.RunUntil(() => stream.Completion.IsCompleted);
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.PeerClosed));
        Posix.Close(client);
    }

    [Test]
    public void CloseAfterDrainFlushesEverythingThenCloses()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        var data = Pattern(300 * 1024, seed: 3);
        stream.Write(data);
        stream.CloseAfterDrain();
        Assert.That(stream.IsClosed, Is.False);
        var received = Net.RunUntilEof(loop, client, TimeSpan.FromSeconds(20));
        Assert.That(received.AsSpan().SequenceEqual(data), Is.True);
        loop.RunUntil(() => stream.Completion.IsCompleted);
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.Drained));
        Posix.Close(client);
    }

    [Test]
    public void CloseReportsOnCloseExactlyOnceFromTheLoopAndDropsLaterWrites()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        stream.OnData = (_, _) => { };
        stream.Start();
        int closes = 0;
        stream.OnClose = (_, r) => { closes++; Assert.That(r, Is.EqualTo(CloseReason.Local)); };
        stream.Close();
        Assert.That(closes, Is.Zero, "OnClose never runs inside Close()");
        stream.Close();
        stream.Dispose();
        Assert.That(stream.Write("x"u8), Is.False);
        loop.RunUntil(() => closes > 0);
        for (int i = 0; i < 3; i++) loop.RunOnce(TimeSpan.Zero);
        Assert.That(closes, Is.EqualTo(1));
        Assert.That(Posix.IsOpen(a), Is.False, "the owned fd is closed");
        Posix.Close(b);
    }

    [Test]
    public void NotOwnedFdStaysOpen()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { OwnsFd = false });
        stream.Close();
        loop.RunUntil(() => stream.Completion.IsCompleted);
        Assert.That(Posix.IsOpen(a), Is.True);
        Net.Settle(loop);
        Posix.Close(a);
        Posix.Close(b);
    }

    [Test]
    public void PauseReadStopsDeliveryMidChunkAndResumeDeliversTheRest()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec() });
        var got = new List<string>();
        stream.OnMessage = (s, m) => { got.Add(Encoding.ASCII.GetString(m)); if (got.Count == 1) s.PauseRead(); };
        stream.Start();
        Posix.Write(b, "a\nb\nc\n"u8);
        loop.RunUntil(() => got.Count == 1);
        Posix.Write(b, "d\n"u8);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(5));
        Assert.That(got, Is.EqualTo(new[] { "a" }), "paused: nothing more is delivered");
        stream.ResumeRead();
        Assert.That(got, Has.Count.EqualTo(1), "resume delivers from the loop, not inline");
        loop.RunUntil(() => got.Count == 4);
        Assert.That(got, Is.EqualTo(new[] { "a", "b", "c", "d" }));
        CloseAndSettle(loop, stream);
        Posix.Close(b);
    }

    [Test]
    public void ThrowingMessageHandlerGoesToTheLoopAndTheStreamContinues()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, e) => errors.Add(e);
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec() });
        var got = new List<string>();
        stream.OnMessage = (_, m) => { var s = Encoding.ASCII.GetString(m); got.Add(s); if (s == "boom") throw new InvalidOperationException("boom"); };
        stream.Start();
        Posix.Write(b, "one\nboom\ntwo\n"u8);
        loop.RunUntil(() => got.Count == 3);
        Assert.That(errors.Select(e => e.Message), Is.EqualTo(new[] { "boom" }));
        Assert.That(stream.IsClosed, Is.False);
        CloseAndSettle(loop, stream);
        Posix.Close(b);
    }
}
