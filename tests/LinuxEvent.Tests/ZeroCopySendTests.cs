using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// Zero-copy sends (ProactorOptions.ZeroCopySendThreshold, IORING_OP_SEND_ZC) on the real ring: large sends over a TCP
/// loopback pair deliver the right bytes and settle only after their notification CQE (nothing left pending or pinned),
/// small ones use SEND, and a socket that refuses zero copy (AF_UNIX) gets a plain SEND.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealProactors))]
public class ZeroCopySendTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private ProactorLoop Create(int threshold)
    {
        backend.Create().Dispose();                       // io_uring refused here: inconclusive (Backend.Create)
        var loop = Loop.CreateProactor(new ProactorOptions { ZeroCopySendThreshold = threshold });
        if (Uring(loop).ZeroCopySendThreshold == 0)
        {
            loop.Dispose();
            Assert.Ignore("this kernel's io_uring has no IORING_OP_SEND_ZC (Linux 6.0): sends stay plain SENDs");
        }
        return loop;
    }

    private static UringProactorBackend Uring(ProactorLoop loop) => (UringProactorBackend)loop.Backend;

    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(i * 7 + (i >> 12));
        return data;
    }

    private static async Task SendAll(LoopFd fd, byte[] data)
    {
        for (int sent = 0; sent < data.Length;) sent += await fd.SendAsync(data.AsMemory(sent));
    }

    private static async Task<byte[]> ReceiveAll(LoopFd fd, int length)
    {
        var got = new byte[length];
        for (int n = 0; n < length;)
        {
            int r = await fd.ReceiveAsync(got.AsMemory(n));
            if (r == 0) throw new EndOfStreamException($"EOF after {n} of {length} bytes");
            n += r;
        }
        return got;
    }

    [TestCase(64 * 1024)]
    [TestCase(1024 * 1024)]
    public void LargeSendsGoZeroCopyDeliverTheirBytesAndSettleAfterTheNotification(int size)
    {
        using var loop = Create(16 * 1024);
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var sender = loop.Register(a);
            using var receiver = loop.Register(b);
            var data = Pattern(size);
            var send = SendAll(sender, data);
            var receive = ReceiveAll(receiver, size);
            loop.RunUntil(() => send.IsCompleted && receive.IsCompleted, Bound);
            send.GetAwaiter().GetResult();
            Assert.That(receive.Result, Is.EqualTo(data), "the peer received exactly the bytes sent");
            var u = Uring(loop);
            Assert.That(u.ZeroCopySends, Is.GreaterThan(0), "at least the first send was SEND_ZC");
            Assert.That(u.ZeroCopyNotifications, Is.EqualTo(u.ZeroCopySends), "every SEND_ZC settled only after its notification");
            Assert.That(loop.LiveOperationCount, Is.Zero, "nothing left pending (or pinned) after the notifications");
        }
        finally
        {
            Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void SendsBelowTheThresholdArePlainSends()
    {
        using var loop = Create(64 * 1024);
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var sender = loop.Register(a);
            var send = sender.SendAsync(Pattern(4096));
            loop.RunUntil(() => send.IsCompleted, Bound);
            Assert.That(send.Result, Is.EqualTo(4096));
            Assert.That(Uring(loop).ZeroCopySends, Is.Zero);
        }
        finally
        {
            Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void AnAfUnixSocketThatRefusesZeroCopyGetsAPlainSend()
    {
        using var loop = Create(1024);
        var (a, b) = Posix.SocketPair();
        try
        {
            using var sender = loop.Register(a);
            using var receiver = loop.Register(b);
            var data = Pattern(8192);
            var send = sender.SendAsync(data);
            var receive = ReceiveAll(receiver, data.Length);
            loop.RunUntil(() => send.IsCompleted && receive.IsCompleted, Bound);
            Assert.That(send.Result, Is.EqualTo(data.Length));
            Assert.That(receive.Result, Is.EqualTo(data));
            var u = Uring(loop);
            Assert.That((u.ZeroCopySends, u.ZeroCopyFallbacks), Is.EqualTo((1L, 1L)), "SEND_ZC refused (EOPNOTSUPP), then SEND");
            Assert.That(loop.LiveOperationCount, Is.Zero);
        }
        finally
        {
            Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void TheCallbackSendReportsItsResultOnceAfterTheNotification()
    {
        using var loop = Create(16 * 1024);
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            var data = Pattern(32 * 1024);
            int calls = 0;
            long notificationsAtCallback = -1;
            var op = loop.Send(a, data, o => { calls++; notificationsAtCallback = Uring(loop).ZeroCopyNotifications; });
            loop.RunUntil(() => calls > 0, Bound);
            loop.RunOnce(TimeSpan.Zero);
            Assert.That((calls, op.State), Is.EqualTo((1, OperationState.Completed)));
            Assert.That(op.Result, Is.GreaterThan(0));
            Assert.That(notificationsAtCallback, Is.EqualTo(1), "the callback ran after the notification CQE");
            var got = new byte[op.Result];
            Posix.SetNonBlocking(b, false);
            for (int n = 0; n < got.Length;) n += Posix.Read(b, got.AsSpan(n));
            Assert.That(got, Is.EqualTo(data.AsSpan(0, op.Result).ToArray()));
        }
        finally
        {
            Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void DisposingTheLoopWithAZeroCopySendStuckOnAFullSocketReturnsOnceThePeerIsGone()
    {
        var loop = Create(16 * 1024);
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            var big = Pattern(16 * 1024 * 1024);         // more than the socket buffers: the send waits for the peer
            var op = loop.Send(a, big);
            loop.RunOnce(TimeSpan.Zero);
            // A local peer's unread receive queue still holds the pages (no notification until it reads or goes): closing
            // it frees them, as a daemon's shutdown does. Disposal cancels the send and settles it on its notification.
            Posix.Close(b);
            b = -1;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            loop.Dispose();
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "the notification arrived: disposal did not run into its drain bound");
            Assert.That(op.IsSettled, Is.True);
            Assert.That(loop.LiveOperationCount, Is.Zero);
        }
        finally
        {
            loop.Dispose();
            Posix.Close(a);
            if (b >= 0) Posix.Close(b);
        }
    }
}
