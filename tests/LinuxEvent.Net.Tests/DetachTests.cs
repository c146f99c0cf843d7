using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// <see cref="LoopStream.Detach"/> and <see cref="LoopStream.DetachAsync"/>: the fd comes back open with every byte the
/// stream read ahead, on the epoll reactor and the io_uring proactor.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class DetachTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static T Await<T>(Loop loop, ValueTask<T> pending)
    {
        var task = pending.AsTask();
        loop.RunUntil(() => task.IsCompleted, Bound);
        return task.GetAwaiter().GetResult();
    }

    private static string ReceiveText(Socket socket, int count)
    {
        var buf = new byte[count];
        socket.ReceiveTimeout = 10_000;
        int got = 0;
        while (got < count)
        {
            int n = socket.Receive(buf, got, count - got, SocketFlags.None);
            if (n == 0) break;
            got += n;
        }
        return Encoding.ASCII.GetString(buf, 0, got);
    }

    [Test]
    public void DetachAsyncHandsBackTheReadAheadBytesAndASocketThatReadsOnFromThere()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        var stream = new LoopStream(loop, server);
        var reasons = new List<CloseReason>();
        stream.OnClose = (_, r) => reasons.Add(r);
        Posix.Write(client, "HEADER|body-bytes-read-ahead"u8);
        var head = new byte[7];
        int n = Await(loop, stream.ReadAsync(head));          // the stream reads ahead more than the caller takes
        Assert.That(Encoding.ASCII.GetString(head, 0, n), Is.EqualTo("HEADER|"));
        loop.RunUntil(() => stream.BytesReceived == 28, Bound);

        var detached = Await(loop, stream.DetachAsync());
        Assert.That(Encoding.ASCII.GetString(detached.BufferedInput.Span), Is.EqualTo("body-bytes-read-ahead"));
        Assert.That(detached.Fd, Is.EqualTo(server));
        Assert.That(detached.PeerEnded, Is.False);
        Assert.That(stream.IsClosed, Is.True);
        Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.Detached));
        loop.RunUntil(() => reasons.Count == 1, Bound);
        Assert.That(reasons, Is.EqualTo(new[] { CloseReason.Detached }));
        Assert.That(Posix.IsOpen(server), Is.True, "detaching does not close the fd");
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero, "no kernel operation names the fd any more");

        using var socket = detached.ToSocket();
        Assert.That(socket.Blocking, Is.True);
        Assert.Throws<InvalidOperationException>(() => detached.ToSocket(), "one owner");
        Posix.Write(client, "after"u8);
        Assert.That(ReceiveText(socket, 5), Is.EqualTo("after"));
        socket.Send("reply"u8);
        loop.RunUntil(() => Net.Drain(client) is { Length: 5 }, Bound);
        Posix.Close(client);
    }

    [Test]
    public void DetachAsyncDrainsTheWriteQueueFirst()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        var data = new byte[512 * 1024];
        new Random(3).NextBytes(data);
        stream.Write(data);
        Assert.That(stream.QueuedBytes, Is.GreaterThan(0));
        Assert.Throws<InvalidOperationException>(() => stream.Detach(), "bytes are queued");
        Assert.That(stream.IsClosed, Is.False, "a refused Detach changes nothing");

        var pending = stream.DetachAsync().AsTask();
        Assert.Throws<InvalidOperationException>(() => stream.Write("late"u8), "no new writes while detaching");
        var received = new MemoryStream();
        loop.RunUntil(() =>
        {
            if (Net.Drain(client) is { } chunk) received.Write(chunk);
            return pending.IsCompleted;
        }, Bound);
        var detached = pending.GetAwaiter().GetResult();
        while (received.Length < data.Length && Net.Drain(client) is { Length: > 0 } more) received.Write(more);
        loop.RunUntil(() =>
        {
            if (Net.Drain(client) is { } chunk) received.Write(chunk);
            return received.Length == data.Length;
        }, Bound);
        Assert.That(received.ToArray().AsSpan().SequenceEqual(data), Is.True, "every queued byte reached the peer");
        Assert.That(detached.BufferedInput.IsEmpty, Is.True);
        Posix.Close(detached.Fd);
        Posix.Close(client);
    }

    [Test]
    public void SyncDetachWorksWhenNothingIsInFlightAndIsRefusedOtherwise()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var idle = new LoopStream(loop, a);               // never read: no receive armed on either model
        var d1 = idle.Detach();
        Assert.That(d1.BufferedInput.IsEmpty && idle.CloseReason == CloseReason.Detached, Is.True);
        Assert.Throws<ObjectDisposedException>(() => idle.Detach());

        var reading = new LoopStream(loop, a);
        Posix.Write(b, "abc"u8);
        Assert.That(Await(loop, reading.ReadAsync(new byte[1])), Is.EqualTo(1));
        if (backend.Name == "ProactorUring")
        {
            // The stream keeps a receive in flight to read ahead: detaching at once could lose what it brings.
            Assert.Throws<InvalidOperationException>(() => reading.Detach());
            Assert.That(reading.IsClosed, Is.False);
            Posix.Write(b, "d"u8);
            var rest = new byte[3];
            int got = 0;
            while (got < 3) got += Await(loop, reading.ReadAsync(rest.AsMemory(got)));
            Assert.That(Encoding.ASCII.GetString(rest), Is.EqualTo("bcd"), "the refused Detach left the stream working");
            var d = Await(loop, reading.DetachAsync());
            Assert.That(d.BufferedInput.IsEmpty, Is.True);
        }
        else
        {
            loop.RunUntil(() => reading.BytesReceived == 3, Bound);
            var d = reading.Detach();
            Assert.That(Encoding.ASCII.GetString(d.BufferedInput.Span), Is.EqualTo("bc"));
        }
        Assert.That(Posix.IsOpen(a), Is.True);
        Posix.Close(a);
        Posix.Close(b);
    }

    [Test]
    public void CallbackModeInputArrivingWhileDetachingIsKeptNotDelivered()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var seen = new StringBuilder();
        stream.OnData = (_, d) => seen.Append(Encoding.ASCII.GetString(d));
        stream.Start();
        Posix.Write(b, "one"u8);
        loop.RunUntil(() => seen.ToString() == "one", Bound);
        Net.SetSendBuffer(a, 4096);
        stream.Write(new byte[256 * 1024]);               // keeps the detach waiting on the drain
        var pending = stream.DetachAsync().AsTask();
        Posix.Write(b, "two"u8);
        loop.RunUntil(() =>
        {
            Net.Drain(b);
            return pending.IsCompleted;
        }, Bound);
        var detached = pending.GetAwaiter().GetResult();
        Assert.That(seen.ToString(), Is.EqualTo("one"), "nothing is delivered once detaching began");
        string kept = Encoding.ASCII.GetString(detached.BufferedInput.Span);
        var rest = Net.Drain(a) ?? [];
        Assert.That(kept + Encoding.ASCII.GetString(rest), Is.EqualTo("two"), "the bytes are in the result or still in the socket");
        Posix.Close(a);
        Posix.Close(b);
    }

    [Test]
    public void CancellingDetachAsyncLeavesTheStreamWorking()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        stream.Write(new byte[256 * 1024]);
        using var cts = new CancellationTokenSource();
        var pending = stream.DetachAsync(cts.Token).AsTask();
        loop.RunOnce(TimeSpan.FromMilliseconds(5));
        cts.Cancel();
        loop.RunUntil(() => pending.IsCompleted, Bound);
        Assert.That(() => pending.GetAwaiter().GetResult(), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(stream.IsClosed, Is.False);
        Assert.That(stream.Write("more"u8) || stream.IsWriteBlocked, Is.True, "writes are accepted again");
        Posix.Write(client, "ping"u8);
        var buf = new byte[4];
        Assert.That(Await(loop, stream.ReadAsync(buf)), Is.EqualTo(4));
        stream.Close();
        loop.RunUntil(() => stream.Completion.IsCompleted, Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
        Posix.Close(client);
    }

    [Test]
    public void AStreamThatClosesWhileDetachingFailsTheDetachWithIOException()
    {
        using var loop = backend.Create();
        var (server, client) = Net.TcpPair();
        Net.SetSendBuffer(server, 4096);
        var stream = new LoopStream(loop, server);
        stream.Write(new byte[512 * 1024]);
        var pending = stream.DetachAsync().AsTask();
        loop.RunOnce(TimeSpan.FromMilliseconds(5));
        stream.Close();
        loop.RunUntil(() => pending.IsCompleted, Bound);
        Assert.That(() => pending.GetAwaiter().GetResult(), Throws.InstanceOf<IOException>().With.Message.Contains("Local"));
        Assert.That(Posix.IsOpen(server), Is.False, "a plain close still closes the owned fd");
        loop.RunUntil(() => stream.Completion.IsCompleted, Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
        Posix.Close(client);
    }

    [Test]
    public void ThePeersEndIsReported()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        Posix.Write(b, "tail"u8);
        Posix.Close(b);
        Assert.That(Await(loop, stream.ReadAsync(new byte[2])), Is.EqualTo(2));
        loop.RunUntil(() => stream.IsPeerEnded, Bound);
        var detached = Await(loop, stream.DetachAsync());
        Assert.That(detached.PeerEnded, Is.True);
        Assert.That(Encoding.ASCII.GetString(detached.BufferedInput.Span), Is.EqualTo("il"));
        Posix.Close(detached.Fd);
    }
}
