using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary><see cref="LoopStream.AsDuplexPipe"/> over real sockets on the epoll reactor and the io_uring proactor.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class DuplexPipeTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly LoopStreamOptions HalfOpen = new() { PeerEnd = PeerEndBehavior.HalfOpen };

    private static void Settle(Loop loop, params LoopDuplexPipe[] pipes)
    {
        loop.RunUntil(() => pipes.All(p => p.Completion.IsCompleted), Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
    }

    /// <summary>The application: echoes Input to Output until EOF, then completes both.</summary>
    private static async Task EchoApp(IDuplexPipe pipe)
    {
        while (true)
        {
            var result = await pipe.Input.ReadAsync();
            foreach (var segment in result.Buffer) await pipe.Output.WriteAsync(segment);
            pipe.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        await pipe.Input.CompleteAsync();
        await pipe.Output.CompleteAsync();
    }

    private static byte[] ReadToEnd(Loop loop, int fd, int expected)
    {
        var got = new MemoryStream();
        loop.RunUntil(() =>
        {
            var c = Net.Drain(fd);
            if (c is null) return true;
            got.Write(c);
            return false;
        }, Bound);
        Assert.That(got.Length, Is.EqualTo(expected));
        return got.ToArray();
    }

    [Test]
    public void AnApplicationOnTheThreadPoolEchoesAMegabyteThroughThePipes()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        var pipe = new LoopStream(loop, server, HalfOpen).AsDuplexPipe();
        var app = Task.Run(() => EchoApp(pipe));
        var data = new byte[1 << 20];
        new Random(11).NextBytes(data);
        var echoed = new MemoryStream();
        int sent = 0;
        loop.RunUntil(() =>
        {
            if (sent < data.Length)
            {
                int n = Posix.TryWrite(client, data.AsSpan(sent, Math.Min(64 * 1024, data.Length - sent)));
                if (n > 0) sent += n;
                if (sent == data.Length) Posix.Shutdown(client, 1);
            }
            var c = Net.Drain(client);
            if (c is null) return true;                        // the pipe completed Output: EOF after the echo
            echoed.Write(c);
            return false;
        }, Bound);
        Assert.That(echoed.ToArray().AsSpan().SequenceEqual(data), Is.True);
        loop.RunUntil(() => app.IsCompleted, Bound);
        app.GetAwaiter().GetResult();
        Settle(loop, pipe);
        Assert.That(pipe.Stream.IsClosed, Is.True, "input ended and output done: the stream closed by itself");
        Assert.That(pipe.ReadEnded.IsCancellationRequested, Is.True);
        Posix.Close(client);
    }

    [Test]
    public void UnreadInputPausesTheSocketAndReadingResumesWhenTheApplicationCatchesUp()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetReceiveBuffer(server, 16 * 1024);
        Net.SetSendBuffer(client, 16 * 1024);
        var options = new LoopPipeOptions { InputPauseThreshold = 32 * 1024, InputResumeThreshold = 8 * 1024 };
        var stream = new LoopStream(loop, server, HalfOpen);
        var pipe = stream.AsDuplexPipe(options);
        var data = new byte[1 << 20];
        new Random(5).NextBytes(data);
        int sent = 0;
        loop.RunUntil(() =>
        {
            int n = Posix.TryWrite(client, data.AsSpan(sent, Math.Min(64 * 1024, data.Length - sent)));
            if (n > 0) sent += n;
            return stream.IsReadPaused && n < 0;               // the kernel's (small) buffers are full too
        }, Bound);
        long inPipe = stream.BytesReceived;
        Assert.That(inPipe, Is.GreaterThanOrEqualTo(32 * 1024).And.LessThan(32 * 1024 + 64 * 1024), "reading stopped near the pause threshold");
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
        Assert.That(stream.BytesReceived, Is.EqualTo(inPipe), "nothing more is read while the application is behind");

        var received = new MemoryStream();
        var app = Task.Run(async () =>
        {
            while (received.Length < data.Length)
            {
                var r = await pipe.Input.ReadAsync();
                foreach (var seg in r.Buffer) received.Write(seg.Span);
                pipe.Input.AdvanceTo(r.Buffer.End);
            }
        });
        loop.RunUntil(() =>
        {
            if (sent < data.Length)
            {
                int n = Posix.TryWrite(client, data.AsSpan(sent, Math.Min(64 * 1024, data.Length - sent)));
                if (n > 0) sent += n;
            }
            return app.IsCompleted;
        }, Bound);
        app.GetAwaiter().GetResult();
        Assert.That(received.ToArray().AsSpan().SequenceEqual(data), Is.True, "every byte, in order, after the pauses");
        _ = pipe.DisposeAsync();
        Settle(loop, pipe);
        Posix.Close(client);
    }

    [Test]
    public void ASlowPeerHoldsTheApplicationsFlushBack()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server, new LoopStreamOptions { HighWatermark = 16 * 1024, LowWatermark = 4 * 1024, PeerEnd = PeerEndBehavior.HalfOpen });
        var pipe = stream.AsDuplexPipe(new LoopPipeOptions { OutputPauseThreshold = 16 * 1024, OutputResumeThreshold = 4 * 1024 });
        var data = new byte[1 << 20];
        new Random(9).NextBytes(data);
        var app = Task.Run(async () =>
        {
            for (int off = 0; off < data.Length; off += 8 * 1024)
            {
                await pipe.Output.WriteAsync(data.AsMemory(off, 8 * 1024));
            }
            await pipe.Output.CompleteAsync();
        });
        loop.RunUntil(() => stream.IsWriteBlocked, Bound);
        for (int i = 0; i < 10; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
        Assert.That(app.IsCompleted, Is.False, "the peer reads nothing: the application waits in FlushAsync");
        Assert.That(stream.QueuedBytes, Is.LessThan(16 * 1024 + 8 * 1024), "the pump stops taking output at the stream's high watermark");
        var got = ReadToEnd(loop, client, data.Length);
        Assert.That(got.AsSpan().SequenceEqual(data), Is.True);
        app.GetAwaiter().GetResult();
        Posix.Close(client);
        Settle(loop, pipe);
    }

    [Test]
    public void ThePeersEndCompletesInputAndTheApplicationMayStillAnswer()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var pipe = new LoopStream(loop, a, HalfOpen).AsDuplexPipe();
        bool signalled = false;
        pipe.ReadEnded.Register(() => signalled = true);
        Posix.Write(b, "question"u8);
        Posix.Shutdown(b, 1);
        var app = Task.Run(async () =>
        {
            ReadResult r = await pipe.Input.ReadAsync();
            while (!r.IsCompleted)
            {
                pipe.Input.AdvanceTo(r.Buffer.Start, r.Buffer.End);     // examined, not consumed: wait for the end
                r = await pipe.Input.ReadAsync();
            }
            string q = Encoding.ASCII.GetString(r.Buffer.ToArray());
            pipe.Input.AdvanceTo(r.Buffer.End);
            await pipe.Output.WriteAsync(Encoding.ASCII.GetBytes("answer to " + q));
            await pipe.Output.CompleteAsync();
            await pipe.Input.CompleteAsync();
        });
        var reply = ReadToEnd(loop, b, 18);
        Assert.That(Encoding.ASCII.GetString(reply), Is.EqualTo("answer to question"));
        app.GetAwaiter().GetResult();
        Settle(loop, pipe);
        Assert.That(signalled, Is.True);
        Assert.That(pipe.Stream.CloseReason, Is.AnyOf(CloseReason.PeerClosed, CloseReason.Drained), "both directions done: a graceful close");
        Posix.Close(b);
    }

    [Test]
    public void AbortEndsAPendingReadAndClosesAtOnce()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var pipe = new LoopStream(loop, a, HalfOpen).AsDuplexPipe();
        var read = Task.Run(async () => await pipe.Input.ReadAsync());
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
        var reason = new IOException("aborted by the test");
        pipe.Abort(reason);
        pipe.Abort();                                            // idempotent
        loop.RunUntil(() => read.IsCompleted, Bound);
        Assert.That(Assert.Catch(() => read.GetAwaiter().GetResult()), Is.SameAs(reason));
        Settle(loop, pipe);
        Assert.That(pipe.Stream.CloseReason, Is.EqualTo(CloseReason.Local));
        Assert.That(Net.Drain(b), Is.Null, "the peer sees the close");
        Posix.Close(b);
    }

    [Test]
    public void AResetCompletesInputWithAnIOExceptionNamingTheErrno()
    {
        using var loop = backend.Create();
        using var listening = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listening.Bind(Net.AnyLoopbackPort);
        listening.Listen(1);
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        client.Connect(listening.LocalEndPoint!);
        var pipe = new LoopStream(loop, listening.Accept(), HalfOpen).AsDuplexPipe();
        var read = Task.Run(async () =>
        {
            ReadResult r;
            do { r = await pipe.Input.ReadAsync(); pipe.Input.AdvanceTo(r.Buffer.End); } while (!r.IsCompleted);
        });
        client.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        client.Close();                                           // linger 0: the kernel sends RST
        loop.RunUntil(() => read.IsCompleted, Bound);
        var error = Assert.Throws<IOException>(() => read.GetAwaiter().GetResult())!;
        Assert.That(error.InnerException, Is.InstanceOf<System.Net.Sockets.SocketException>());
        Assert.That(((ILinuxEventError)error.InnerException!).Errno, Is.EqualTo(104), "ECONNRESET");
        Settle(loop, pipe);
        Assert.That(pipe.Stream.CloseReason, Is.EqualTo(CloseReason.Error));
    }

    [Test]
    public void DisposeAsyncWritesWhatTheApplicationWroteThenCloses()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var pipe = new LoopStream(loop, a, HalfOpen).AsDuplexPipe();
        var app = Task.Run(async () =>
        {
            pipe.Output.Write("last"u8);                          // written, not flushed: DisposeAsync still sends it
            await pipe.DisposeAsync();
        });
        var got = ReadToEnd(loop, b, 4);
        Assert.That(Encoding.ASCII.GetString(got), Is.EqualTo("last"));
        loop.RunUntil(() => app.IsCompleted, Bound);
        app.GetAwaiter().GetResult();
        Settle(loop, pipe);
        Assert.That(pipe.Stream.IsClosed, Is.True);
        Posix.Close(b);
    }

    [Test]
    public void TheLoopSidesRunOnTheLoopThreadAndAnInlineApplicationDoesToo()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var pipe = new LoopStream(loop, a, HalfOpen).AsDuplexPipe(new LoopPipeOptions { ApplicationScheduler = PipeScheduler.Inline });
        int loopThread = Environment.CurrentManagedThreadId;
        var threads = new List<int>();
        var app = loop.Spawn(async () =>
        {
            var r = await pipe.Input.ReadAsync();
            threads.Add(Environment.CurrentManagedThreadId);
            pipe.Input.AdvanceTo(r.Buffer.End);
            await pipe.Output.WriteAsync("pong"u8.ToArray());
            threads.Add(Environment.CurrentManagedThreadId);
            await pipe.DisposeAsync();
        });
        Posix.Write(b, "ping"u8);
        var got = ReadToEnd(loop, b, 4);
        Assert.That(Encoding.ASCII.GetString(got), Is.EqualTo("pong"));
        loop.RunUntil(() => app.IsCompleted, Bound);
        Assert.That(threads, Is.All.EqualTo(loopThread));
        Settle(loop, pipe);
        Posix.Close(b);

        var scheduler = new LoopPipeScheduler(loop);
        int ran = 0;
        scheduler.Schedule(_ => ran = Environment.CurrentManagedThreadId, null);
        Assert.That(ran, Is.Zero, "never inline");
        loop.RunUntil(() => ran != 0, Bound);
        Assert.That(ran, Is.EqualTo(loopThread));
    }

    [Test]
    public void AsDuplexPipeIsRefusedForACodecAReadStreamAndBadOptions()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var framed = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(64), OwnsFd = false });
        Assert.Throws<InvalidOperationException>(() => framed.AsDuplexPipe());
        framed.Close();
        var reading = new LoopStream(loop, a, new LoopStreamOptions { OwnsFd = false });
        _ = reading.ReadAsync(new byte[1]);
        Assert.Throws<InvalidOperationException>(() => reading.AsDuplexPipe());
        reading.Close();
        var fresh = new LoopStream(loop, a);
        Assert.Throws<ArgumentOutOfRangeException>(() => fresh.AsDuplexPipe(new LoopPipeOptions { InputPauseThreshold = 10, InputResumeThreshold = 20 }));
        var pipe = fresh.AsDuplexPipe();
        Assert.Throws<InvalidOperationException>(() => fresh.AsDuplexPipe(), "one reader");
        Assert.Throws<InvalidOperationException>(() => fresh.AsStream());
        pipe.Abort();
        Settle(loop, pipe);
        loop.RunUntil(() => framed.Completion.IsCompleted && reading.Completion.IsCompleted, Bound);
        Posix.Close(b);
    }
}
