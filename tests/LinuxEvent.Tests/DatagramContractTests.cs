using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// SendToAsync/ReceiveFromAsync and the message forms, written once and run on reactor (epoll), proactor (uring) and
/// both fakes (scripted through <see cref="DatagramWire"/>).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class DatagramContractTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static void AssertNoLiveOperations(Loop loop)
    {
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero, "LiveOperationCount");
    }

    private static T Completed<T>(Loop loop, ValueTask<T> task)
    {
        loop.RunUntil(() => task.IsCompleted, Bound);
        return task.Result;
    }

    private static TException Fails<TException>(Loop loop, ValueTask<SocketReceiveFromResult> task) where TException : Exception
    {
        loop.RunUntil(() => task.IsCompleted, Bound);
        return Assert.Throws<TException>(() => _ = task.Result)!;
    }

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    [TestCase(AddressFamily.Unix)]
    public void SendToAndReceiveFromCarryTheBytesAndThePeersAddress(AddressFamily family)
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop, family);
        var buffer = new byte[64];
        var receive = loop.ReceiveFromAsync(wire.Server, buffer);
        wire.Deliver(Ascii("ping"));
        var r = Completed(loop, receive);
        Assert.That(r.ReceivedBytes, Is.EqualTo(4));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, 4), Is.EqualTo("ping"));
        Assert.That(r.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint), "the sender");

        var (sent, data) = wire.Sent(loop.SendToAsync(wire.Server, Ascii("pong!"), r.RemoteEndPoint));
        Assert.That(sent, Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(data), Is.EqualTo("pong!"));
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void DatagramsKeepTheirBoundariesAndOrderAndAnEmptyOneIsNotEndOfStream()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var buffer = new byte[64];
        var got = new List<string>();
        foreach (string text in new[] { "one", "", "three" })
        {
            var receive = loop.ReceiveFromAsync(wire.Server, buffer);
            wire.Deliver(Ascii(text));
            var r = Completed(loop, receive);
            got.Add(Encoding.ASCII.GetString(buffer, 0, r.ReceivedBytes));
            Assert.That(r.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint));
        }
        Assert.That(got, Is.EqualTo(new[] { "one", "", "three" }));
    }

    [Test]
    public void ConsecutiveDatagramsFromOnePeerShareOneEndPointObject()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var buffer = new byte[16];
        var receive = loop.ReceiveFromAsync(wire.Server, buffer);
        wire.Deliver(Ascii("a"));
        var first = Completed(loop, receive).RemoteEndPoint;
        receive = loop.ReceiveFromAsync(wire.Server, buffer);
        wire.Deliver(Ascii("b"));
        Assert.That(Completed(loop, receive).RemoteEndPoint, Is.SameAs(first), "a known peer is not decoded again");

        // A caller that modifies the endpoint it was given gets a correct new one, never the modified object.
        ((IPEndPoint)first).Port = 1;
        receive = loop.ReceiveFromAsync(wire.Server, buffer);
        wire.Deliver(Ascii("c"));
        var third = Completed(loop, receive).RemoteEndPoint;
        Assert.That(third, Is.Not.SameAs(first));
        Assert.That(third, Is.EqualTo(wire.ClientEndPoint));
    }

    [Test]
    public void ATruncatedDatagramFailsReceiveFromWithEmsgsizeAndTheNextOneIsReceived()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var small = new byte[4];
        var receive = loop.ReceiveFromAsync(wire.Server, small);
        wire.Deliver(Ascii("0123456789"));
        var ex = Fails<DatagramTruncatedException>(loop, receive);
        Assert.That(ex.Errno, Is.EqualTo(Errno.EMSGSIZE));
        Assert.That(ex.ErrnoName, Is.EqualTo("EMSGSIZE"));
        Assert.That(ex.Call, Is.EqualTo($"recvmsg(fd={wire.Server})"));
        Assert.That(ex.ReceivedBytes, Is.EqualTo(4));
        Assert.That(ex.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint));
        Assert.That(ex.Message, Does.Contain("4-byte buffer").And.Contain("MSG_TRUNC"));
        Assert.That(Encoding.ASCII.GetString(small), Is.EqualTo("0123"), "the first bytes are in the buffer");

        receive = loop.ReceiveFromAsync(wire.Server, small);
        wire.Deliver(Ascii("ok"));
        Assert.That(Completed(loop, receive).ReceivedBytes, Is.EqualTo(2), "the rest of the big datagram was discarded");
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void ReceiveMessageFlagsATruncatedDatagramInsteadOfThrowing()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var small = new byte[3];
        var receive = loop.ReceiveMessageAsync(wire.Server, small, Memory<int>.Empty);
        wire.Deliver(Ascii("abcdef"));
        var r = Completed(loop, receive);
        Assert.That(r.ReceivedBytes, Is.EqualTo(3));
        Assert.That(r.IsTruncated, Is.True);
        Assert.That(r.Flags, Is.EqualTo(ReceiveMessageFlags.Truncated));
        Assert.That(r.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint));
        Assert.That(r.FdCount, Is.Zero);
        Assert.That(Encoding.ASCII.GetString(small), Is.EqualTo("abc"));
    }

    [Test]
    public void CancellingAPendingReceiveThrowsAndFreesTheReadSide()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        using var cts = new CancellationTokenSource();
        var buffer = new byte[16];
        var receive = loop.ReceiveFromAsync(wire.Server, buffer, cts.Token);
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(receive.IsCompleted, Is.False, "nothing arrived yet");
        cts.Cancel();
        loop.RunUntil(() => receive.IsCompleted, Bound);
        Assert.That(receive.IsCanceled, Is.True);
        Assert.Throws<OperationCanceledException>(() => _ = receive.Result);
        AssertNoLiveOperations(loop);

        var again = loop.ReceiveFromAsync(wire.Server, buffer);
        wire.Deliver(Ascii("after"));
        Assert.That(Completed(loop, again).ReceivedBytes, Is.EqualTo(5), "the read side was free again");
    }

    [Test]
    public void OneReceiveAtATimePerSocketAndAnAlreadyCancelledTokenStartsNothing()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var buffer = new byte[16];
        var first = loop.ReceiveFromAsync(wire.Server, buffer);
        var second = loop.ReceiveMessageAsync(wire.Server, buffer, Memory<int>.Empty);
        Assert.That(second.IsFaulted, Is.True);
        var busy = Assert.Throws<InvalidOperationException>(() => _ = second.Result)!;
        Assert.That(busy.Message, Does.Contain("Loop.ReceiveMessageAsync").And.Contain("read-side"));

        var cancelled = loop.SendToAsync(wire.Server, Ascii("x"), wire.ClientEndPoint, new CancellationToken(true));
        Assert.That(cancelled.IsCanceled, Is.True);

        wire.Deliver(Ascii("one"));
        Assert.That(Completed(loop, first).ReceivedBytes, Is.EqualTo(3));
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void BadArgumentsAreRefusedBeforeAnythingStarts()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var data = Ascii("x");
        Assert.That(() => loop.SendToAsync(wire.Server, data, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("remote"));
        var dns = Assert.Throws<ArgumentException>(() => loop.SendToAsync(wire.Server, data, new DnsEndPoint("localhost", 9)))!;
        Assert.That(dns.Message, Does.Contain("Loop.SendToAsync").And.Contain("DnsEndPoint"));
        Assert.That(() => loop.SendToAsync(-1, data, wire.ClientEndPoint), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Loop.SendToAsync"));
        Assert.That(() => loop.ReceiveFromAsync(-2, new byte[4]), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => loop.SendMessageAsync(wire.Server, data, null, new[] { 0, -1 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("fds[1] is negative"));
        Assert.That(() => loop.SendMessageAsync(wire.Server, data, null, new int[254]),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("SCM_MAX_FD"));
        AssertNoLiveOperations(loop);

        // Nothing was left half-done: the socket's sides are free.
        var (sent, _) = wire.Sent(loop.SendToAsync(wire.Server, data, wire.ClientEndPoint));
        Assert.That(sent, Is.EqualTo(1));
    }

    [Test]
    public void AKernelErrorNamesSendmsgTheSocketAndTheDestination()
    {
        using var loop = backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            var to = new IPEndPoint(IPAddress.Loopback, 9);
            var send = loop.SendToAsync(w, Ascii("x"), to);
            if (loop is ProactorLoop { Fake: { } fake })
                fake.Fail(fake.Pending.Single(o => o.Kind == OperationKind.SendMessage), Errno.ENOTSOCK);
            loop.RunUntil(() => send.IsCompleted, Bound);
            var ex = Assert.Throws<LinuxEventSocketException>(() => _ = send.Result)!;
            Assert.That(ex.Errno, Is.EqualTo(Errno.ENOTSOCK), "a pipe is not a socket");
            Assert.That(ex.Call, Is.EqualTo($"sendmsg(fd={w}, to 127.0.0.1:9)"));
            AssertNoLiveOperations(loop);
        }
        finally
        {
            Posix.Close(r);
            Posix.Close(w);
        }
    }

    [Test]
    public void ADatagramTooLargeForUdpFailsWithEmsgsizeAndSaysWhy()
    {
        using var loop = backend.Create();
        // An unscripted socket: on the fake reactor its sendmsg reaches the kernel; the fake proactor scripts the errno.
        int udp = Posix.CreateBoundDatagramSocket(new IPEndPoint(IPAddress.Loopback, 0));
        try
        {
            var to = (IPEndPoint)Posix.GetLocalEndPoint(udp)!;
            var send = loop.SendToAsync(udp, new byte[70_000], to);
            if (loop is ProactorLoop { Fake: { } fake })
                fake.Fail(fake.Pending.Single(o => o.Kind == OperationKind.SendMessage), Errno.EMSGSIZE);
            loop.RunUntil(() => send.IsCompleted, Bound);
            var ex = Assert.Throws<LinuxEventSocketException>(() => _ = send.Result)!;
            Assert.That(ex.Errno, Is.EqualTo(Errno.EMSGSIZE));
            Assert.That(ex.Message, Does.Contain($"sendmsg(fd={udp}, to {to})").And.Contain("70000-byte datagram").And.Contain("65507"));
        }
        finally { Posix.Close(udp); }
    }

    [Test]
    public void ASenderWithoutAnAddressIsReportedAsNull()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.DatagramSocketPair();
        try
        {
            var buffer = new byte[8];
            var receive = loop.ReceiveFromAsync(a, buffer);
            switch (loop)
            {
                case ProactorLoop { Fake: { } fake }:
                    fake.CompleteReceiveFrom(fake.Pending.Single(), Ascii("hi"), null);
                    break;
                case ReactorLoop { Fake: { } fake }:
                    fake.DeliverDatagram(a, Ascii("hi"), null);
                    break;
                default:
                    Posix.Write(b, Ascii("hi"));
                    break;
            }
            var r = Completed(loop, receive);
            Assert.That(r.ReceivedBytes, Is.EqualTo(2));
            Assert.That(r.RemoteEndPoint, Is.Null, "one end of a socket pair is unnamed");
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void DisposingTheLoopFailsAPendingReceiveWithObjectDisposed()
    {
        var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var receive = loop.ReceiveFromAsync(wire.Server, new byte[8]);
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
        Assert.That(receive.IsCompleted, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = receive.Result);
    }

    [Test]
    public void DatagramCallsFromAnotherThreadAreRefusedWhileTheLoopRuns()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var refusals = new List<string>();
        bool done = false;
        loop.Post(running =>
        {
            var t = new Thread(() =>
            {
                void Try(string what, Action call)
                {
                    try { call(); }
                    catch (InvalidOperationException ex) when (ex.Message.Contains("loop thread")) { refusals.Add(what); }
                }
                Try("SendTo", () => _ = loop.SendToAsync(wire.Server, Ascii("x"), wire.ClientEndPoint));
                Try("ReceiveFrom", () => _ = loop.ReceiveFromAsync(wire.Server, new byte[4]));
                Try("SendMessage", () => _ = loop.SendMessageAsync(wire.Server, Ascii("x"), null, Array.Empty<int>()));
                Try("ReceiveMessage", () => _ = loop.ReceiveMessageAsync(wire.Server, new byte[4], Memory<int>.Empty));
            });
            t.Start();
            t.Join();
            done = true;
        });
        loop.RunUntil(() => done, Bound);
        Assert.That(refusals, Is.EqualTo(new[] { "SendTo", "ReceiveFrom", "SendMessage", "ReceiveMessage" }));
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void ARegisteredSocketEchoesThroughItsLoopFd()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        using var registration = loop.Register(wire.Server);
        var buffer = new byte[32];
        for (int i = 0; i < 3; i++)
        {
            var receive = registration.ReceiveFromAsync(buffer);
            wire.Deliver(Ascii($"msg{i}"));
            var r = Completed(loop, receive);
            var (sent, data) = wire.Sent(registration.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), r.RemoteEndPoint));
            Assert.That(sent, Is.EqualTo(4));
            Assert.That(Encoding.ASCII.GetString(data), Is.EqualTo($"msg{i}"));
        }
        AssertNoLiveOperations(loop);
    }
}
