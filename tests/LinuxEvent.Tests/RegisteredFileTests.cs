using System.Net;
using System.Text;
using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// io_uring's registered file table behind <see cref="LoopFd"/> (ProactorOptions.RegisteredFileSlots), on the real ring:
/// requests name the slot, the slot is cleared before the fd closes (the peer sees EOF), a full table falls back to the
/// fd number, and a registration from a thread that does not drive the ring does not bind it.
/// </summary>
public class RegisteredFileTests : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static ProactorLoop Create(int slots)
    {
        var loop = (ProactorLoop)UringTiers.RegisteredFiles.Create();
        if (slots != 64) { loop.Dispose(); loop = Loop.CreateProactor(new ProactorOptions { RegisteredFileSlots = slots }); }
        var ready = loop.DelayAsync(TimeSpan.Zero);      // the ring binds to this thread, which drives it
        loop.RunUntil(() => ready.IsCompleted, Bound);
        return loop;
    }

    private static int SlotOf(Loop loop, int fd) => loop.IoFds[fd] is ProactorFd p ? p.FixedSlot : -1;

    [Test]
    public void ALoopFdUsesATableSlotAndItsPeerSeesEofWhenItIsDisposed()
    {
        using var loop = Create(64);
        var (a, b) = Posix.SocketPair();
        try
        {
            var fd = loop.Register(a, ownsFd: true);
            Assert.That(SlotOf(loop, a), Is.GreaterThanOrEqualTo(0), "the registration took a slot of the table");
            var buf = new byte[16];
            var receive = fd.ReceiveAsync(buf);
            Posix.Write(b, Encoding.ASCII.GetBytes("fixed"));
            loop.RunUntil(() => receive.IsCompleted, Bound);
            Assert.That(receive.Result, Is.EqualTo(5));
            var send = fd.SendAsync(Encoding.ASCII.GetBytes("back"));
            loop.RunUntil(() => send.IsCompleted, Bound);
            Assert.That(send.Result, Is.EqualTo(4));
            Assert.That(Posix.Read(b, buf), Is.EqualTo(4));

            var pending = fd.ReceiveAsync(buf).AsTask();
            loop.RunOnce(TimeSpan.Zero);
            fd.Dispose();                                 // cancels, clears the slot, closes the fd
            loop.RunUntil(() => pending.IsCompleted, Bound);
            Assert.That(SlotOf(loop, a), Is.EqualTo(-1));
            // The table no longer holds the socket: closing the fd closed it, so the peer reads EOF.
            Posix.SetNonBlocking(b, false);
            Assert.That(Posix.Read(b, buf), Is.Zero, "EOF: the registered table released the file");
        }
        finally
        {
            Posix.Close(b);
        }
    }

    [Test]
    public void AFullTableFallsBackToTheFdNumberAndAFreedSlotIsReused()
    {
        using var loop = Create(1);
        var (a, b) = Posix.SocketPair();
        var (c, d) = Posix.SocketPair();
        try
        {
            var first = loop.Register(a);
            var second = loop.Register(c);
            Assert.That(SlotOf(loop, a), Is.EqualTo(0));
            Assert.That(SlotOf(loop, c), Is.EqualTo(-1), "no slot left: the fd number");
            var buf = new byte[8];
            var r2 = second.ReceiveAsync(buf);
            Posix.Write(d, new byte[] { 7 });
            loop.RunUntil(() => r2.IsCompleted, Bound);
            Assert.That(r2.Result, Is.EqualTo(1), "the fallback works");
            first.Dispose();
            second.Dispose();
            using var third = loop.Register(c);
            Assert.That(SlotOf(loop, c), Is.EqualTo(0), "the freed slot is reused");
        }
        finally
        {
            Posix.Close(a); Posix.Close(b); Posix.Close(c); Posix.Close(d);
        }
    }

    [Test]
    public void AcceptDatagramsAndDeadlinesWorkThroughASlot()
    {
        using var loop = Create(64);
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        int udp = Posix.CreateBoundDatagramSocket(new IPEndPoint(IPAddress.Loopback, 0));
        try
        {
            using var lfd = loop.Register(listener);
            using var ufd = loop.Register(udp);
            Assert.That(SlotOf(loop, listener), Is.GreaterThanOrEqualTo(0));
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            var accept = lfd.AcceptAsync();
            client.Connect(Posix.GetLocalEndPoint(listener)!);
            loop.RunUntil(() => accept.IsCompleted, Bound);
            Posix.Close(accept.Result);

            var timedOut = ufd.ReceiveFromAsync(new byte[8], TimeSpan.FromMilliseconds(20)).AsTask();
            loop.RunUntil(() => timedOut.IsCompleted, Bound);
            Assert.That(timedOut.Exception?.InnerException, Is.InstanceOf<LinuxEventTimeoutException>());
        }
        finally
        {
            Posix.Close(listener);
            Posix.Close(udp);
        }
    }

    [Test]
    public void ARegistrationOffTheDrivingThreadUsesTheFdNumberAndDoesNotBindTheRing()
    {
        using var loop = Loop.CreateProactor(new ProactorOptions { RegisteredFileSlots = 8 });
        var (a, b) = Posix.SocketPair();
        try
        {
            using var fd = loop.Register(a);                 // the ring is not bound to any thread yet
            Assert.That(SlotOf(loop, a), Is.EqualTo(-1));
            var t = new Thread(() =>
            {
                var receive = fd.ReceiveAsync(new byte[4]);
                Posix.Write(b, new byte[] { 1 });
                loop.RunUntil(() => receive.IsCompleted, Bound);
            });
            t.Start();
            t.Join();                                         // another thread drives it: no EEXIST, no wrong binding
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void BadSlotCountsAreRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Loop.CreateProactor(new ProactorOptions { RegisteredFileSlots = -1 }));
        Assert.That(ex!.Message, Does.Contain("RegisteredFileSlots"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loop.CreateProactor(new ProactorOptions { RegisteredFileSlots = 40000 }));
    }
}
