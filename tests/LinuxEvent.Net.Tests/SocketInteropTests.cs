using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Socket and SafeHandle in, Socket out: fd ownership at the boundary with System.Net.Sockets, on both models.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class SocketInteropTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static (Socket Server, Socket Client) ConnectedSockets()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (listener.Accept(), client);
    }

    private static void Settle(Loop loop, LoopStream s)
    {
        s.Close();
        loop.RunUntil(() => s.Completion.IsCompleted, Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
    }

    [Test]
    public void AStreamOverASocketOwnsItAndDisposesItWhenItCloses()
    {
        using var loop = backend.Create();
        var (server, client) = ConnectedSockets();
        using var _ = client;
        var stream = new LoopStream(loop, server);
        Assert.That(server.Blocking, Is.False, "the loop needs a non-blocking fd");
        stream.OnData = (s, d) => s.Write(d);
        stream.Start();
        client.Send("echo me"u8);
        var buf = new byte[7];
        client.ReceiveTimeout = 10_000;
        var receive = Task.Run(() => { int got = 0; while (got < 7) got += client.Receive(buf, got, 7 - got, SocketFlags.None); });
        loop.RunUntil(() => receive.IsCompleted, Bound);
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("echo me"));
        Settle(loop, stream);
        Assert.That(server.SafeHandle.IsClosed, Is.True, "OwnsFd: the stream disposed the socket");
    }

    [Test]
    public void DisposingTheSocketElsewhereEndsTheStreamBeforeTheFdCloses()
    {
        using var loop = backend.Create();
        var (server, client) = ConnectedSockets();
        using var _ = client;
        var stream = new LoopStream(loop, server, new LoopStreamOptions { OwnsFd = false });
        int fd = (int)server.SafeHandle.DangerousGetHandle();
        var got = new StringBuilder();
        stream.OnData = (_, d) => got.Append(Encoding.ASCII.GetString(d));
        stream.Start();
        client.Send("still here"u8);
        loop.RunUntil(() => got.ToString() == "still here", Bound);
        // The stream holds a reference on the handle: the runtime's Socket.Dispose shuts the socket down to end
        // operations on it and waits for the reference; the stream sees the end, closes and lets go.
        var dispose = Task.Run(server.Dispose);
        loop.RunUntil(() => dispose.IsCompleted, Bound);
        dispose.GetAwaiter().GetResult();
        Assert.That(stream.IsClosed, Is.True, "the stream ended before the fd was closed");
        Assert.That(server.SafeHandle.IsClosed, Is.True);
        loop.RunUntil(() => stream.Completion.IsCompleted, Bound);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
        Assert.That(Posix.IsOpen(fd) && IsSameSocket(fd), Is.False, "the fd is closed once the stream let go");
    }

    private static bool IsSameSocket(int fd)
    {
        try { return Posix.GetLocalEndPoint(fd) is IPEndPoint; } catch (Exception e) when (e is ILinuxEventError) { return false; }
    }

    [Test]
    public void AStreamThatDoesNotOwnTheSocketLeavesItUsableAndDetachReturnsThatSocket()
    {
        using var loop = backend.Create();
        var (server, client) = ConnectedSockets();
        using var _ = client;
        using var __ = server;
        var borrowed = new LoopStream(loop, server, new LoopStreamOptions { OwnsFd = false });
        Settle(loop, borrowed);
        Assert.That(server.SafeHandle.IsClosed, Is.False);
        client.Send("x"u8);
        server.Blocking = true;
        server.ReceiveTimeout = 10_000;
        Assert.That(server.Receive(new byte[1]), Is.EqualTo(1), "the socket still works after the stream closed");

        var owned = new LoopStream(loop, server);
        client.Send("ahead"u8);
        var one = owned.ReadAsync(new byte[1]).AsTask();
        loop.RunUntil(() => one.IsCompleted && owned.BytesReceived == 5, Bound);
        var detachTask = owned.DetachAsync().AsTask();
        loop.RunUntil(() => detachTask.IsCompleted, Bound);
        var detached = detachTask.Result;
        Assert.That(Encoding.ASCII.GetString(detached.BufferedInput.Span), Is.EqualTo("head"));
        Assert.That(detached.ToSocket(), Is.SameAs(server), "the socket that owned the fd comes back");
        Assert.That(server.SafeHandle.IsClosed, Is.False);
    }

    [Test]
    public void ASafeHandleStreamAndRegistrationKeepTheHandleAliveAndDisposeItWhenOwned()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var handle = new SafeSocketHandle(a, ownsHandle: true);
        var stream = new LoopStream(loop, handle);
        Settle(loop, stream);
        Assert.That(handle.IsClosed, Is.True, "OwnsFd: the stream disposed the handle");

        var (c, d) = Posix.SocketPair();
        var h2 = new SafeSocketHandle(c, ownsHandle: true);
        var registration = loop.RegisterHandle(h2, ownsHandle: false);
        Assert.That(registration.Handle, Is.SameAs(h2));
        h2.Dispose();
        Assert.That(Posix.IsOpen(c), Is.True, "the registration's reference keeps the fd open");
        Posix.Write(d, "hi"u8);
        var t = registration.ReceiveAsync(new byte[2]).AsTask();
        loop.RunUntil(() => t.IsCompleted, Bound);
        Assert.That(t.Result, Is.EqualTo(2));
        registration.Dispose();
        Assert.That(registration.Handle, Is.Null);

        var closed = new SafeSocketHandle(d, ownsHandle: true);
        closed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.RegisterHandle(closed));
        Assert.Throws<ObjectDisposedException>(() => new LoopStream(loop, closed));
        Posix.Close(b);
    }

    [Test]
    public void AListenerOverASocketAcceptsAndSocketConnectionToSocketOwnsTheFd()
    {
        using var loop = backend.Create();
        var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(8);
        var listener = Listener.FromSocket(loop, listening, ownsSocket: true, onAccept: null);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listening.LocalEndPoint!);
        var accept = listener.AcceptAsync().AsTask();
        loop.RunUntil(() => accept.IsCompleted, Bound);
        using (var accepted = accept.Result.ToSocket())
        {
            Assert.That(accepted.Blocking, Is.True);
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
            client.Send("over"u8);
            accepted.ReceiveTimeout = 10_000;
            var buf = new byte[4];
            int got = 0;
            while (got < 4) got += accepted.Receive(buf, got, 4 - got, SocketFlags.None);
            Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("over"));
        }
        listener.Dispose();
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0, Bound);
        Assert.That(listening.SafeHandle.IsClosed, Is.True, "ownsSocket: disposed with the listener");

        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Throws<ArgumentException>(() => Listener.FromSocket(loop, udp, ownsSocket: false, onAccept: null));
        Assert.Throws<ArgumentException>(() => new LoopStream(loop, udp));
        Assert.That(udp.SafeHandle.IsClosed, Is.False, "a refused socket stays the caller's");
    }
}
