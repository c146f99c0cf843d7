using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// DatagramSocket on all four backends: datagrams travel for real on epoll and io_uring, and are scripted on the fakes
/// through <see cref="DatagramWire"/> with the same assertions.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class DatagramSocketTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    [TestCase(AddressFamily.Unix)]
    public void TheHandlerGetsEachDatagramAndItsSenderAndSendToReplies(AddressFamily family)
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, DatagramWire.LocalEndPoint(family));
        using var wire = new DatagramWire(loop, socket.Fd, family);
        var got = new List<(string Text, EndPoint? From)>();
        socket.StartReceiving((s, datagram, from) =>
        {
            got.Add((Encoding.ASCII.GetString(datagram), from));
            s.SendTo(datagram.ToArray().Reverse().ToArray(), from!);     // reply to the sender
        });
        foreach (string text in new[] { "abc", "", "hello" })
        {
            wire.Deliver(Ascii(text));
            Assert.That(Encoding.ASCII.GetString(wire.TakeSent()), Is.EqualTo(new string(text.Reverse().ToArray())));
        }
        Assert.That(got.Select(g => g.Text), Is.EqualTo(new[] { "abc", "", "hello" }));
        Assert.That(got.Select(g => g.From), Is.All.EqualTo(wire.ClientEndPoint));
        loop.RunUntil(() => socket.SentDatagrams == 3, Bound);
        Assert.That(socket.ReceivedDatagrams, Is.EqualTo(3));
        Assert.That(socket.DroppedDatagrams + socket.SendErrors + socket.TruncatedDatagrams, Is.Zero);
    }

    [Test]
    public void ADatagramLargerThanTheLimitIsDroppedWholeAndCounted()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { MaxDatagramSize = 8 });
        using var wire = new DatagramWire(loop, socket.Fd, AddressFamily.InterNetwork);
        var got = new List<string>();
        socket.StartReceiving((_, d, _) => got.Add(Encoding.ASCII.GetString(d)));
        wire.Deliver(Ascii("12345678"));
        wire.Deliver(Ascii("123456789"));
        wire.Deliver(Ascii("ok"));
        loop.RunUntil(() => got.Count == 2, Bound);
        Assert.That(got, Is.EqualTo(new[] { "12345678", "ok" }), "never a cut datagram");
        Assert.That(socket.TruncatedDatagrams, Is.EqualTo(1));
    }

    [Test]
    public void AThrowingHandlerGoesToUnhandledExceptionAndReceivingGoesOn()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, ex) => errors.Add(ex);
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort);
        using var wire = new DatagramWire(loop, socket.Fd, AddressFamily.InterNetwork);
        int seen = 0;
        socket.StartReceiving((_, d, _) =>
        {
            seen++;
            if (d[0] == (byte)'!') throw new FormatException("bad datagram");
        });
        wire.Deliver(Ascii("!boom"));
        wire.Deliver(Ascii("fine"));
        loop.RunUntil(() => seen == 2, Bound);
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Is.InstanceOf<FormatException>());
    }

    [Test]
    public void ReceiveFromAsyncWorksWithoutAHandlerAndIsRefusedWithOne()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort);
        using var wire = new DatagramWire(loop, socket.Fd, AddressFamily.InterNetwork);
        var buffer = new byte[32];
        var receive = socket.ReceiveFromAsync(buffer);
        wire.Deliver(Ascii("awaited"));
        loop.RunUntil(() => receive.IsCompleted, Bound);
        var r = receive.Result;
        Assert.That(Encoding.ASCII.GetString(buffer, 0, r.ReceivedBytes), Is.EqualTo("awaited"));
        Assert.That(r.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint));

        socket.StartReceiving((_, _, _) => { });
        var ex = Assert.Throws<InvalidOperationException>(() => socket.ReceiveFromAsync(buffer))!;
        Assert.That(ex.Message, Does.Contain("StartReceiving"));
    }

    [Test]
    public void BadArgumentsAreRefusedWithTheCallNamed()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { SendQueueBytes = 64 });
        Assert.That(() => socket.SendTo("x"u8, null!), Throws.ArgumentNullException);
        Assert.That(() => socket.SendTo("x"u8, new DnsEndPoint("localhost", 1)), Throws.ArgumentException.With.Message.Contains("DatagramSocket.SendTo"));
        Assert.That(() => socket.SendTo(new byte[65], new IPEndPoint(IPAddress.Loopback, 9)),
            Throws.ArgumentException.With.Message.Contains("larger than the whole send queue"));
        Assert.That(() => DatagramSocket.Bind(loop, new DnsEndPoint("localhost", 1)), Throws.ArgumentException);
        Assert.That(() => DatagramSocket.Open(loop, AddressFamily.AppleTalk), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { MaxDatagramSize = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("MaxDatagramSize"));
        var taken = socket.LocalEndPoint!;
        var inUse = Assert.Throws<LinuxEventSocketException>(() => DatagramSocket.Bind(loop, taken))!;
        Assert.That(inUse.ErrnoName, Is.EqualTo("EADDRINUSE"));
        Assert.That(inUse.Call, Does.StartWith("bind("));
        Assert.That(loop.ComponentCount, Is.EqualTo(2), "the socket and its registration; nothing left from the failures");
    }

    [Test]
    public void AUnixSocketUnlinksTheFileItCreatedOnDispose()
    {
        using var loop = backend.Create();
        string path = Path.Combine(Path.GetTempPath(), $"linuxevent-dgram-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        var socket = DatagramSocket.Bind(loop, new UnixDomainSocketEndPoint(path));
        Assert.That(File.Exists(path), Is.True);
        Assert.That(socket.LocalEndPoint, Is.EqualTo(new UnixDomainSocketEndPoint(path)));
        socket.Dispose();
        Assert.That(File.Exists(path), Is.False);
        socket.Dispose();                   // idempotent
        Assert.That(loop.ComponentCount, Is.Zero);
    }

    [Test]
    public void DisposingTheLoopReleasesTheSocketAndFailsAWaitingSend()
    {
        var loop = backend.Create();
        var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { SendQueueBytes = 16 });
        socket.StartReceiving((_, _, _) => { });
        var to = new IPEndPoint(IPAddress.Loopback, 9);
        if (loop is ReactorLoop { Fake: { } fake }) fake.SetSendBlocked(socket.Fd, true);
        // The queue holds 16 bytes: on the fakes and on io_uring the first send stays pending, so the second waits for
        // room; on epoll the first is sent at once and the second is queued at once.
        Assert.That(socket.SendTo(new byte[16], to), Is.True);
        var waiting = socket.SendToAsync(new byte[16], to);
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
        Assert.That(socket.IsDisposed, Is.True);
        if (!waiting.IsCompletedSuccessfully)
        {
            var ex = Assert.Throws<ObjectDisposedException>(() => waiting.GetAwaiter().GetResult())!;
            Assert.That(ex.Message, Does.Contain("DatagramSocket.SendToAsync").And.Contain("loop was disposed"));
        }
        socket.Dispose();                   // after the loop: nothing to do
        // The fd-leak check of this fixture proves the socket was closed.
    }
}
