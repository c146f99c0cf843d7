using System.Buffers;
using System.Text;
namespace LinuxEvent.Net.Tests;

// StreamTests, continued: the async read API, mixing modes, user codecs and allocation.
public partial class StreamTests
{
    [Test]
    public void AsyncMessageEchoWithBackpressure()
    {
        using var loop = backend.Create();
        var (a, b) = Net.TcpPair();
        Net.SetSendBuffer(a, 4096);
        var codec = new LengthPrefixedCodec(1 << 20);
        var server = new LoopStream(loop, a, new LoopStreamOptions { Codec = codec, HighWatermark = 32 * 1024, LowWatermark = 4096 });
        var client = new LoopStream(loop, b, new LoopStreamOptions { Codec = codec });
        int[] sizes = [0, 1, 100, 5000, 70_000, 200_000, 3];
        var echoed = new List<byte[]>();
        loop.Run(async () =>
        {
            var serverTask = Task.Run(async () => { await Task.Yield(); });   // placeholder: keep the shape obvious
            await serverTask;
            var echo = EchoAsync(server);
            foreach (var n in sizes) await client.WriteMessageAsync(Pattern(n, n));
            for (int i = 0; i < sizes.Length; i++)
            {
                var m = await client.ReadMessageAsync();
                Assert.That(m, Is.Not.Null);
                echoed.Add(m!.Value.ToArray());
            }
            client.ShutdownWrite();
            Assert.That(await echo, Is.EqualTo(sizes.Length));
            Assert.That(await client.ReadMessageAsync(), Is.Null, "EOF after the server closed");
            client.Close();
        });
        for (int i = 0; i < sizes.Length; i++) Assert.That(echoed[i], Is.EqualTo(Pattern(sizes[i], sizes[i])), $"message {i}");
        loop.RunUntil(() => server.Completion.IsCompleted && client.Completion.IsCompleted);
        Net.Settle(loop);

        static async Task<int> EchoAsync(LoopStream s)
        {
            int count = 0;
            while (await s.ReadMessageAsync() is { } message)
            {
                count++;
                await s.WriteMessageAsync(message.ToArray());      // copied: the message memory lives until the next read
            }
            await s.FlushAsync();
            s.Close();
            return count;
        }
    }

    [Test]
    public void AsyncByteReadsReturnZeroAtEofAndCancellationLosesNoData()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var buf = new byte[64];
        loop.Run(async () =>
        {
            using (var cts = new CancellationTokenSource())
            {
                var pending = stream.ReadAsync(buf, cts.Token);
                cts.Cancel();
                Assert.ThrowsAsync<OperationCanceledException>(async () => await pending);
            }
            Posix.Write(b, "abc"u8);
            int n = await stream.ReadAsync(buf);
            Assert.That(Encoding.ASCII.GetString(buf, 0, n), Is.EqualTo("abc"));
            Posix.Write(b, "defgh"u8);
            Posix.Shutdown(b, 1);
            var all = new StringBuilder();
            while ((n = await stream.ReadAsync(buf.AsMemory(0, 2))) > 0) all.Append(Encoding.ASCII.GetString(buf, 0, n));
            Assert.That(all.ToString(), Is.EqualTo("defgh"));
            Assert.That(await stream.ReadAsync(buf), Is.Zero);
            await stream.WriteAsync("reply"u8.ToArray());
            stream.CloseAfterDrain();
            Assert.That(await stream.Completion, Is.EqualTo(CloseReason.Drained));
        });
        Assert.That(Encoding.ASCII.GetString(Net.Drain(b) ?? []), Is.EqualTo("reply"));
        Net.Settle(loop);
        Posix.Close(b);
    }

    // Regression (Net review): closing the stream returned its receive array to the shared pool while a message
    // slice handed out by ReadMessageAsync could still be read, so the next renter overwrote it.
    [Test]
    public void AMessageFromReadMessageAsyncSurvivesTheStreamsClose()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        string before = "", after = "";
        try
        {
            loop.Run(async () =>
            {
                var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(), FdKind = StreamFdKind.Socket });
                Posix.Write(b, Encoding.ASCII.GetBytes("a message that must stay intact\n"));
                var message = (await stream.ReadMessageAsync())!.Value;
                before = Encoding.ASCII.GetString(message.Span);
                stream.Close();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));       // the close completes
                // Anything returned to the shared pool would come back to the next renter of that size on this thread.
                for (int i = 0; i < 8; i++) ArrayPool<byte>.Shared.Rent(64 * 1024).AsSpan().Fill(0xFF);
                after = Encoding.ASCII.GetString(message.Span);
            });
        }
        finally { Posix.Close(b); }
        Assert.That(before, Is.EqualTo("a message that must stay intact"));
        Assert.That(after, Is.EqualTo(before));
    }

    [Test]
    public void ModesCannotBeMixed()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        Assert.Throws<InvalidOperationException>(() => stream.Start(), "no OnData yet");
        stream.OnData = (_, _) => { };
        stream.Start();
        Assert.Throws<InvalidOperationException>(() => stream.ReadAsync(new byte[1]));
        Assert.Throws<InvalidOperationException>(() => stream.WriteMessage("x"u8), "no codec");
        CloseAndSettle(loop, stream);
        Posix.Close(b);
    }

    /// <summary>A user codec: one length byte, then the payload.</summary>
    private sealed class ByteLengthCodec : IFrameCodec
    {
        public FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame)
        {
            frame = default;
            if (input.Length < 1 || input.Length < 1 + input[0]) return FrameStatus.NeedMoreData;
            frame = new Frame(1 + input[0], 1, input[0]);
            return FrameStatus.Complete;
        }
        public int GetEncodedLength(int payloadLength) => 1 + payloadLength;
        public void Encode(ReadOnlySpan<byte> payload, Span<byte> destination) { destination[0] = (byte)payload.Length; payload.CopyTo(destination[1..]); }
    }

    [Test]
    public void UserCodecWorksThroughAStreamAndTruncationAtEofIsACodecError()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a, new LoopStreamOptions { Codec = new ByteLengthCodec() });
        var got = new List<string>();
        s.OnMessage = (_, m) => got.Add(Encoding.ASCII.GetString(m));
        s.Start();
        var peer = new LoopStream(loop, b, new LoopStreamOptions { Codec = new ByteLengthCodec() });
        peer.WriteMessage("hi"u8);
        peer.WriteMessage("there"u8);
        peer.Write(new byte[] { 9, 1 });             // a truncated frame, then EOF
        peer.CloseAfterDrain();
        loop.RunUntil(() => s.IsClosed);
        Assert.That(got, Is.EqualTo(new[] { "hi", "there" }));
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.CodecError));
        Assert.That(s.Error!.Message, Does.Contain("ended inside a frame"));
        loop.RunUntil(() => s.Completion.IsCompleted && peer.Completion.IsCompleted);
    }

    [Test]
    public void CallbackMessagePathAllocatesNothingPerMessageInSteadyState()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var codec = new LengthPrefixedCodec(4096);
        var server = new LoopStream(loop, a, new LoopStreamOptions { Codec = codec });
        server.OnMessage = static (s, m) => s.WriteMessage(m);          // echo
        server.Start();
        var client = new LoopStream(loop, b, new LoopStreamOptions { Codec = codec });
        long echoed = 0;
        client.OnMessage = (_, _) => echoed++;
        client.Start();
        var payload = new byte[64];
        void Exchange(int count)
        {
            long target = echoed + count;
            for (int i = 0; i < count; i++)
            {
                client.WriteMessage(payload);
                loop.RunOnce(TimeSpan.Zero);
            }
            for (int spins = 0; echoed < target && spins < 100_000; spins++) loop.RunOnce(TimeSpan.FromMilliseconds(1));
        }
        Exchange(2000);                                                  // warm up: pools, JIT, buffers
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exchange(10_000);
        long perMessage = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000;
        Assert.That(echoed, Is.EqualTo(12_000));
        Assert.That(perMessage, Is.LessThan(8), $"{perMessage} B allocated per echoed message");
        CloseAndSettle(loop, client);
        CloseAndSettle(loop, server);
    }
}
