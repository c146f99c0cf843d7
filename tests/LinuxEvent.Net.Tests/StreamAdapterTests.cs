using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// <see cref="LoopStream.AsStream()"/>: Stream semantics on the loop thread and from thread-pool threads (marshalled),
/// over real sockets on the epoll reactor and the io_uring proactor.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class StreamAdapterTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="client"/> on the thread pool while this thread drives the loop; rethrows its failure.</summary>
    internal static T Drive<T>(Loop loop, Func<Task<T>> client)
    {
        var task = Task.Run(client);
        loop.RunUntil(() => task.IsCompleted, Bound);
        return task.GetAwaiter().GetResult();
    }

    internal static void Drive(Loop loop, Func<Task> client) => Drive(loop, async () => { await client(); return 0; });

    /// <summary>A peer stream on the same loop that echoes everything (callback mode) until EOF, then closes.</summary>
    internal static LoopStream Echo(Loop loop, int fd)
    {
        var echo = new LoopStream(loop, fd);
        echo.OnData = (s, d) => s.Write(d);
        echo.Start();
        return echo;
    }

    private static void Settle(Loop loop, params LoopStream[] streams)
    {
        foreach (var s in streams) s.Close();
        loop.RunUntil(() => streams.All(s => s.Completion.IsCompleted), Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
    }

    private static async Task<byte[]> ReadExactly(Stream s, int count)
    {
        var buf = new byte[count];
        await s.ReadExactlyAsync(buf);
        return buf;
    }

    [Test]
    public void CallsFromTheThreadPoolAreMarshalledOntoTheLoop()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var echo = Echo(loop, b);
        var s = stream.AsStream();
        int loopThread = Environment.CurrentManagedThreadId;
        var (reply, clientThread) = Drive(loop, async () =>
        {
            await s.WriteAsync("hello, loop"u8.ToArray());
            await s.FlushAsync();
            var got = await ReadExactly(s, 11);
            return (Encoding.ASCII.GetString(got), Environment.CurrentManagedThreadId);
        });
        Assert.That(reply, Is.EqualTo("hello, loop"));
        Assert.That(clientThread, Is.Not.EqualTo(loopThread), "continuations of marshalled calls resume off the loop thread");
        Settle(loop, stream, echo);
    }

    [Test]
    public void OnTheLoopThreadTheCallsAreTheStreamsOwnAndStayOnTheLoop()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var echo = Echo(loop, b);
        var s = stream.AsStream();
        string? reply = null;
        bool stayedOnLoop = true;
        loop.Run(async () =>
        {
            await s.WriteAsync("round trip"u8.ToArray());
            stayedOnLoop &= loop.IsOnLoopThread;
            var got = await ReadExactly(s, 10);
            stayedOnLoop &= loop.IsOnLoopThread;
            reply = Encoding.ASCII.GetString(got);
        });
        Assert.That(reply, Is.EqualTo("round trip"));
        Assert.That(stayedOnLoop, Is.True);
        Settle(loop, stream, echo);
    }

    [Test]
    public void ReadReturnsZeroAtTheEndOfTheStream()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        Posix.Write(b, "last words"u8);
        Posix.Shutdown(b, 1);
        var (text, end, again) = Drive(loop, async () =>
        {
            var got = await ReadExactly(s, 10);
            int end = await s.ReadAsync(new byte[16]);
            int again = await s.ReadAsync(new byte[16]);
            return (Encoding.ASCII.GetString(got), end, again);
        });
        Assert.That(text, Is.EqualTo("last words"));
        Assert.That(end, Is.Zero);
        Assert.That(again, Is.Zero, "EOF is sticky");
        Settle(loop, stream);
        Posix.Close(b);
    }

    [Test]
    public void CancellingAMarshalledReadLosesNoData()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        using var cts = new CancellationTokenSource();
        var pending = Task.Run(async () => await s.ReadAsync(new byte[8], cts.Token));
        loop.RunUntil(() => stream.BytesReceived == 0 && loop.ComponentCount > 0 && pending.Status == TaskStatus.WaitingForActivation, Bound);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(1));
        Assert.That(pending.IsCompleted, Is.False, "no data: the read waits");
        cts.Cancel();
        loop.RunUntil(() => pending.IsCompleted, Bound);
        Assert.That(() => pending.GetAwaiter().GetResult(), Throws.InstanceOf<OperationCanceledException>());
        Posix.Write(b, "kept"u8);
        var text = Drive(loop, async () => Encoding.ASCII.GetString(await ReadExactly(s, 4)));
        Assert.That(text, Is.EqualTo("kept"));
        Assert.That(() => s.ReadAsync(new byte[1], new CancellationToken(true)).AsTask().GetAwaiter().GetResult(), Throws.InstanceOf<OperationCanceledException>());
        Settle(loop, stream);
        Posix.Close(b);
    }

    [Test]
    public void AZeroByteReadWaitsForDataAndConsumesNothing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        var zero = Task.Run(async () => await s.ReadAsync(Memory<byte>.Empty));
        for (int i = 0; i < 10; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
        Assert.That(zero.IsCompleted, Is.False, "a zero-byte read waits for input");
        Posix.Write(b, "xyz"u8);
        loop.RunUntil(() => zero.IsCompleted, Bound);
        Assert.That(zero.Result, Is.Zero);
        var text = Drive(loop, async () => Encoding.ASCII.GetString(await ReadExactly(s, 3)));
        Assert.That(text, Is.EqualTo("xyz"), "the zero-byte read consumed nothing");
        Settle(loop, stream);
        Posix.Close(b);
    }

    [Test]
    public void SynchronousCallsBlockAnotherThreadAndAreRefusedOnTheLoopThread()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var echo = Echo(loop, b);
        var s = stream.AsStream();
        string reply = Drive(loop, () => Task.Run(() =>
        {
            s.Write("sync"u8);
            s.Write("-io"u8.ToArray(), 0, 3);
            s.Flush();
            var buf = new byte[7];
            int got = 0;
            while (got < buf.Length) got += s.Read(buf, got, buf.Length - got);
            return Encoding.ASCII.GetString(buf);
        }));
        Assert.That(reply, Is.EqualTo("sync-io"));

        Exception? readError = null, writeError = null;
        bool flushReturned = false;
        loop.Run(() =>
        {
            readError = Catch(() => s.ReadExactly(new byte[1], 0, 1));
            writeError = Catch(() => s.Write(new byte[1], 0, 1));
            s.Flush();                                       // returns: the queue drains by itself
            flushReturned = true;
            return Task.CompletedTask;
        });
        Assert.That(readError, Is.InstanceOf<InvalidOperationException>().With.Message.Contains("ReadAsync"));
        Assert.That(writeError, Is.InstanceOf<InvalidOperationException>().With.Message.Contains("WriteAsync"));
        Assert.That(flushReturned, Is.True);
        Settle(loop, stream, echo);
    }

    private static Exception? Catch(Action a)
    {
        try { a(); return null; }
        catch (Exception ex) { return ex; }
    }

    [Test]
    public void WriteAsyncWaitsWhileTheQueueIsAboveTheHighWatermark()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server, new LoopStreamOptions { HighWatermark = 16 * 1024, LowWatermark = 4 * 1024 });
        var s = stream.AsStream();
        var data = new byte[1 << 20];    // far more than the socket buffers of both ends hold
        new Random(7).NextBytes(data);
        var write = Task.Run(async () => await s.WriteAsync(data));
        loop.RunUntil(() => stream.QueuedBytes > 0, Bound);
        for (int i = 0; i < 10; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
        Assert.That(write.IsCompleted, Is.False, "the peer reads nothing: the write waits above the high watermark");
        Assert.That(stream.IsWriteBlocked, Is.True);

        var received = new MemoryStream();
        loop.RunUntil(() =>
        {
            if (Net.Drain(client) is { } chunk) received.Write(chunk);
            return write.IsCompleted;
        }, Bound);
        write.GetAwaiter().GetResult();
        Assert.That(stream.QueuedBytes, Is.LessThanOrEqualTo(4 * 1024), "completed once drained to the low watermark");
        var flush = Task.Run(async () => await s.FlushAsync());
        loop.RunUntil(() =>
        {
            if (Net.Drain(client) is { } chunk) received.Write(chunk);
            return flush.IsCompleted && received.Length == data.Length;
        }, Bound);
        Assert.That(received.ToArray().AsSpan().SequenceEqual(data), Is.True);
        Settle(loop, stream);
        Posix.Close(client);
    }

    [Test]
    public void DisposingClosesTheStreamAfterItsQueueDrainsUnlessLeftOpen()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var kept = new LoopStream(loop, a, new LoopStreamOptions { OwnsFd = false });
        var keptAdapter = kept.AsStream(leaveOpen: true);
        Drive(loop, async () => await keptAdapter.DisposeAsync());
        Assert.That(kept.IsClosed, Is.False, "leaveOpen: the LoopStream stays open");
        Assert.That(() => keptAdapter.ReadAsync(new byte[1]), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(keptAdapter.CanRead || keptAdapter.CanWrite, Is.False);
        Settle(loop, kept);

        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        Assert.That((s.CanRead, s.CanWrite, s.CanSeek), Is.EqualTo((true, true, false)));
        Assert.That(() => s.Length, Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => s.Position = 1, Throws.InstanceOf<NotSupportedException>());
        Drive(loop, async () =>
        {
            await s.WriteAsync("goodbye"u8.ToArray());
            s.Dispose();                                     // from the thread pool: posted, graceful
        });
        loop.RunUntil(() => stream.IsClosed, Bound);
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.Drained));
        var got = new MemoryStream();
        loop.RunUntil(() =>
        {
            var c = Net.Drain(b);
            if (c is null) return true;
            got.Write(c);
            return false;
        }, Bound);
        Assert.That(Encoding.ASCII.GetString(got.ToArray()), Is.EqualTo("goodbye"), "queued bytes go out before the close");
        loop.RunUntil(() => stream.Completion.IsCompleted, Bound);
        Posix.Close(b);
    }

    [Test]
    public void OneReadAtATimeAndNoAdapterForACodecOrCallbackStream()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        var first = Task.Run(async () => await s.ReadAsync(new byte[4]));
        loop.RunUntil(() => first.Status == TaskStatus.WaitingForActivation, Bound);
        var second = Task.Run(async () => await s.ReadAsync(new byte[4]));
        loop.RunUntil(() => second.IsCompleted, Bound);
        Assert.That(() => second.GetAwaiter().GetResult(), Throws.InstanceOf<InvalidOperationException>());
        Assert.Throws<InvalidOperationException>(() => stream.Start(), "the adapter put the stream in async mode");
        Posix.Write(b, "data"u8);
        loop.RunUntil(() => first.IsCompleted, Bound);
        Assert.That(first.Result, Is.EqualTo(4));

        var (c, d) = Posix.SocketPair();
        var framed = new LoopStream(loop, c, new LoopStreamOptions { Codec = new LineCodec(64) });
        Assert.Throws<InvalidOperationException>(() => framed.AsStream());
        var callbacks = new LoopStream(loop, d) { OnData = (_, _) => { } };
        callbacks.Start();
        Assert.Throws<InvalidOperationException>(() => callbacks.AsStream());
        Settle(loop, stream, framed, callbacks);
        Posix.Close(b);
    }

    [Test]
    public void AfterTheLoopIsDisposedCallsFailWithObjectDisposedException()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var s = stream.AsStream();
        var pending = Task.Run(async () => await s.ReadAsync(new byte[4]));
        loop.RunUntil(() => pending.Status == TaskStatus.WaitingForActivation, Bound);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(1));
        loop.Dispose();
        Assert.That(pending.Wait(Bound), Is.True);
        Assert.That(pending.Result, Is.Zero, "a pending read ends like a close: 0");
        var late = Task.Run(async () => await s.ReadAsync(new byte[4]));
        Assert.That(() => late.GetAwaiter().GetResult(), Throws.InstanceOf<ObjectDisposedException>().With.Message.Contains("disposed"));
        Posix.Close(b);
    }
}
