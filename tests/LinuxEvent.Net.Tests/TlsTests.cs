using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// TLS through <see cref="SslStream"/> over <see cref="LoopStream.AsStream()"/>, on the epoll reactor and the io_uring
/// proactor: handshakes driven from the loop thread and from the thread pool (marshalled), round trips of many sizes,
/// close_notify and EOF.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class TlsTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly int[] Sizes = [1, 100, 1400, 16 * 1024, 16 * 1024 + 1, 100_000, 1 << 20];

    private static byte[] Payload(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Echoes until the client's close_notify (read returns 0), then sends its own and closes.</summary>
    private static async Task EchoServer(Stream inner)
    {
        await using var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(TlsTestSupport.Server);
        var buf = new byte[32 * 1024];
        int n;
        while ((n = await tls.ReadAsync(buf)) > 0) await tls.WriteAsync(buf.AsMemory(0, n));
        await tls.ShutdownAsync();
    }

    /// <summary>Round trips every size, then close_notify; returns the protocol and what the final read saw.</summary>
    private static async Task<(System.Security.Authentication.SslProtocols Protocol, int FinalRead)> Client(Stream inner)
    {
        await using var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(TlsTestSupport.Client);
        for (int i = 0; i < Sizes.Length; i++)
        {
            var payload = Payload(Sizes[i], i);
            var write = tls.WriteAsync(payload).AsTask();       // concurrently with the reads: a large echo must not deadlock
            var back = new byte[payload.Length];
            await tls.ReadExactlyAsync(back);
            await write;
            Assert.That(back.AsSpan().SequenceEqual(payload), Is.True, $"round trip of {Sizes[i]} bytes");
        }
        await tls.ShutdownAsync();                              // close_notify
        int final = await tls.ReadAsync(new byte[1]);           // the server's close_notify, then EOF
        return (tls.SslProtocol, final);
    }

    private static void Settle(Loop loop, params LoopStream[] streams)
    {
        loop.RunUntil(() => streams.All(s => s.IsClosed), Bound);
        loop.RunUntil(() => streams.All(s => s.Completion.IsCompleted), Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
    }

    [Test]
    public void ServerOnTheLoopThreadClientOnTheThreadPoolBothOverLoopStreams()
    {
        using var loop = backend.Create();
        var (a, b) = Net.TcpPair();
        var serverStream = new LoopStream(loop, a);
        var clientStream = new LoopStream(loop, b);
        var serverInner = serverStream.AsStream();
        var clientInner = clientStream.AsStream();
        var server = loop.Spawn(() => EchoServer(serverInner));
        var client = Task.Run(() => Client(clientInner));
        loop.RunUntil(() => server.IsCompleted && client.IsCompleted, Bound);
        server.GetAwaiter().GetResult();
        var (protocol, final) = client.GetAwaiter().GetResult();
        Assert.That(final, Is.Zero, "after close_notify both ways the client reads EOF");
        Assert.That(protocol, Is.Not.EqualTo(System.Security.Authentication.SslProtocols.None));
        Settle(loop, serverStream, clientStream);
    }

    [Test]
    public void BothEndsDrivenFromTheThreadPool()
    {
        // The case that failed before the adapter marshalled: SslStream calls its inner stream from pool threads.
        using var loop = backend.Create();
        var (a, b) = Net.TcpPair();
        var serverStream = new LoopStream(loop, a);
        var clientStream = new LoopStream(loop, b);
        var serverInner = serverStream.AsStream();
        var clientInner = clientStream.AsStream();
        var server = Task.Run(() => EchoServer(serverInner));
        var client = Task.Run(() => Client(clientInner));
        loop.RunUntil(() => server.IsCompleted && client.IsCompleted, Bound);
        server.GetAwaiter().GetResult();
        Assert.That(client.GetAwaiter().GetResult().FinalRead, Is.Zero);
        Settle(loop, serverStream, clientStream);
    }

    [Test]
    public void BothEndsOnTheLoopThread()
    {
        using var loop = backend.Create();
        var (a, b) = Net.TcpPair();
        var serverStream = new LoopStream(loop, a);
        var clientStream = new LoopStream(loop, b);
        var serverInner = serverStream.AsStream();
        var clientInner = clientStream.AsStream();
        var server = loop.Spawn(() => EchoServer(serverInner));
        var client = loop.Spawn(async () => Assert.That((await Client(clientInner)).FinalRead, Is.Zero));
        loop.RunUntil(() => server.IsCompleted && client.IsCompleted, Bound);
        server.GetAwaiter().GetResult();
        client.GetAwaiter().GetResult();
        Settle(loop, serverStream, clientStream);
    }

    [Test]
    public void LoopServerAndARuntimeSocketClient()
    {
        using var loop = backend.Create();
        var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, 0), onAccept: null);
        var accepted = new List<LoopStream>();
        var server = loop.Spawn(async () =>
        {
            var connection = await listener.AcceptAsync();
            var stream = connection.ToStream(loop);
            accepted.Add(stream);
            await EchoServer(stream.AsStream());
        });
        var client = Task.Run(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(listener.LocalEndPoint!);
            return await Client(new NetworkStream(socket, ownsSocket: false));
        });
        loop.RunUntil(() => server.IsCompleted && client.IsCompleted, Bound);
        server.GetAwaiter().GetResult();
        Assert.That(client.GetAwaiter().GetResult().FinalRead, Is.Zero);
        listener.Dispose();
        Settle(loop, accepted.ToArray());
    }

    [Test]
    public void APeerThatVanishesWithoutCloseNotifyEndsTheServersReads()
    {
        using var loop = backend.Create();
        var (a, b) = Net.TcpPair();
        var serverStream = new LoopStream(loop, a);
        var clientStream = new LoopStream(loop, b);
        var serverInner = serverStream.AsStream();
        var clientInner = clientStream.AsStream();
        Exception? serverEnd = null;
        int serverRead = -1;
        var server = Task.Run(async () =>
        {
            await using var tls = new SslStream(serverInner);
            await tls.AuthenticateAsServerAsync(TlsTestSupport.Server);
            try { serverRead = await tls.ReadAsync(new byte[16]); }
            catch (IOException ex) { serverEnd = ex; }
        });
        var client = Task.Run(async () =>
        {
            var tls = new SslStream(clientInner, leaveInnerStreamOpen: true);
            await tls.AuthenticateAsClientAsync(TlsTestSupport.Client);
            // No close_notify: the transport simply ends.
            await clientInner.DisposeAsync();
        });
        loop.RunUntil(() => server.IsCompleted && client.IsCompleted, Bound);
        client.GetAwaiter().GetResult();
        server.GetAwaiter().GetResult();
        Assert.That(serverRead == 0 || serverEnd is not null, Is.True, "a truncated TLS stream ends the reader (EOF or IOException), never hangs");
        Settle(loop, serverStream, clientStream);
    }
}
