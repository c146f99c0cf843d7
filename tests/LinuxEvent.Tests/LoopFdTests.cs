using System.Net;
using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// <see cref="LoopFd"/> (Loop.Register) contract, written once and run on every backend. Bytes reach the registered
/// end through the backend's own way of delivering them: a real socket pair for the real backends; for the fakes, the
/// bytes are written and readiness injected (reactor) or the pending receive is completed (proactor).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopFdContractTests(Backend backend) : FdCheckedTest
{
    private static void Deliver(Loop loop, int local, int remote, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        switch (loop)
        {
            case ProactorLoop { Fake: { } fake }:
                fake.CompleteReceive(fake.Pending.First(o => o.Kind == OperationKind.Receive && o.FileDescriptor == local), bytes);
                break;
            case ReactorLoop { Fake: { } fakeReactor }:
                Posix.Write(remote, bytes);
                fakeReactor.Inject(local, Readiness.Readable);
                break;
            default:
                Posix.Write(remote, bytes);
                break;
        }
    }

    private static string ReadRemote(int remote)
    {
        var buf = new byte[256];
        int n = Posix.TryRead(remote, buf);
        return n > 0 ? Encoding.ASCII.GetString(buf, 0, n) : "";
    }

    [Test]
    public void ReceiveAndSendThroughARegistrationLookLikeBlockingCode()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        var got = new List<string>();
        try
        {
            using var fd = loop.Register(local);
            loop.Run(async () =>
            {
                var buf = new byte[64];
                for (int round = 0; round < 3; round++)
                {
                    // Each receive parks first (nothing there yet), then gets a short read; the next one must still wake.
                    var receive = loop.Spawn(async () => { int n = await fd.ReceiveAsync(buf); got.Add(Encoding.ASCII.GetString(buf, 0, n)); });
                    await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                    Deliver(loop, local, remote, "msg" + round);
                    await receive;
                    var send = fd.SendAsync(Encoding.ASCII.GetBytes("ack" + round));
                    if (loop is ProactorLoop { Fake: { } fake })     // the fake moves no bytes: its script completes the send
                        fake.Complete(fake.Pending.First(o => o.Kind == OperationKind.Send && o.FileDescriptor == local), 4);
                    Assert.That(await send, Is.EqualTo(4));
                    if (loop is not ProactorLoop { Fake: not null }) Assert.That(ReadRemote(remote), Is.EqualTo("ack" + round));
                }
            });
            Assert.That(fd.IsDisposed, Is.False);
        }
        finally { Posix.Close(local); Posix.Close(remote); }
        Assert.That(got, Is.EqualTo(new[] { "msg0", "msg1", "msg2" }));
    }

    [Test]
    public void ASecondPendingOperationOnTheSameSideFailsClearly()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        try
        {
            using var fd = loop.Register(local);
            InvalidOperationException? second = null;
            string first = "";
            loop.Run(async () =>
            {
                var buf = new byte[16];
                var pending = fd.ReceiveAsync(buf).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                try { await fd.ReceiveAsync(new byte[16]); }
                catch (InvalidOperationException e) { second = e; }
                Deliver(loop, local, remote, "one");
                first = Encoding.ASCII.GetString(buf, 0, await pending);
            });
            Assert.That(second?.Message, Does.Contain("read-side").And.Contain($"fd {local}"));
            Assert.That(first, Is.EqualTo("one"), "the first receive was not disturbed");
        }
        finally { Posix.Close(local); Posix.Close(remote); }
    }

    [Test]
    public void DisposeFailsThePendingReceiveWithObjectDisposedAndClosesAnOwnedFd()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        Exception? pendingError = null;
        try
        {
            var fd = loop.Register(local, ownsFd: true);
            loop.Run(async () =>
            {
                var pending = fd.ReceiveAsync(new byte[16]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                fd.Dispose();
                try { await pending; } catch (Exception e) { pendingError = e; }
            });
            Assert.That(pendingError, Is.InstanceOf<ObjectDisposedException>());
            Assert.That(Posix.IsOpen(local), Is.False, "the owned fd was closed");
            Assert.That(fd.IsDisposed, Is.True);
            var after = Assert.Throws<ObjectDisposedException>(() => fd.ReceiveAsync(new byte[4]));
            Assert.That(after!.Message, Does.Contain("LoopFd.ReceiveAsync"));
            fd.Dispose();                                      // idempotent: closes nothing twice
            if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
        }
        finally { Posix.Close(remote); }
    }

    [Test]
    public void AFdThatIsNotOwnedStaysOpenAndCanBeRegisteredAgain()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        try
        {
            loop.Register(local).Dispose();
            Assert.That(Posix.IsOpen(local), Is.True);
            using var again = loop.Register(local);
            string got = "";
            loop.Run(async () =>
            {
                var buf = new byte[8];
                var t = loop.Spawn(async () => got = Encoding.ASCII.GetString(buf, 0, await again.ReceiveAsync(buf)));
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                Deliver(loop, local, remote, "back");
                await t;
            });
            Assert.That(got, Is.EqualTo("back"));
        }
        finally { Posix.Close(local); Posix.Close(remote); }
    }

    [Test]
    public void ACancelledReceiveLeavesTheRegistrationUsable()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        try
        {
            using var fd = loop.Register(local);
            using var cts = new CancellationTokenSource();
            Exception? cancelled = null;
            string later = "";
            loop.Run(async () =>
            {
                var pending = fd.ReceiveAsync(new byte[8], cts.Token).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                cts.Cancel();
                try { await pending; } catch (Exception e) { cancelled = e; }
                var buf = new byte[8];
                var t = loop.Spawn(async () => later = Encoding.ASCII.GetString(buf, 0, await fd.ReceiveAsync(buf)));
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                Deliver(loop, local, remote, "late");
                await t;
            });
            Assert.That(cancelled, Is.InstanceOf<OperationCanceledException>());
            Assert.That(later, Is.EqualTo("late"));
        }
        finally { Posix.Close(local); Posix.Close(remote); }
    }

    [Test]
    public void DisposingTheLoopFailsPendingOperationsAndClosesOwnedFds()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task<int>? pending = null;
        LoopFd? fd = null;
        try
        {
            fd = loop.Register(a, ownsFd: true);
            loop.Run(async () =>
            {
                pending = fd.ReceiveAsync(new byte[8]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            });
            loop.Dispose();
            Assert.That(pending!.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>(), "same outcome on every backend");
            Assert.That(fd.IsDisposed, Is.True);
            Assert.That(Posix.IsOpen(a), Is.False, "the owned fd was closed with the loop");
            var (r, w) = Posix.Pipe();                     // takes the number just released
            fd.Dispose();                                  // must not close it again
            Assert.That(Posix.IsOpen(r) && Posix.IsOpen(w), Is.True, "a later Dispose closed nothing more");
            Posix.Close(r);
            Posix.Close(w);
        }
        finally
        {
            loop.Dispose();
            Posix.Close(b);
        }
    }

    [Test]
    public void FdNumberCallsOnARegisteredFdShareItsRegistration()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        try
        {
            var fd = loop.Register(local);
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(local))!.Message, Does.Contain("already registered"));
            Exception? second = null, pendingError = null;
            loop.Run(async () =>
            {
                var pending = loop.ReceiveAsync(local, new byte[8]).AsTask();     // by number, on a registered fd
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                try { await fd.ReceiveAsync(new byte[8]); } catch (Exception e) { second = e; }
                fd.Dispose();                                                     // must settle the fd-number receive too
                try { await pending; } catch (Exception e) { pendingError = e; }
            });
            Assert.That(second, Is.InstanceOf<InvalidOperationException>(), "one read-side operation at a time, across both APIs");
            Assert.That(pendingError, Is.InstanceOf<ObjectDisposedException>());
            if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
        }
        finally { Posix.Close(local); Posix.Close(remote); }
    }

    [Test]
    public void DisposingAfterTheLoopsDisposalWasRequestedInTheSameIterationWorks()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task<int>? pending = null;
        Exception? disposeError = null;
        LoopFd? fd = null;
        try
        {
            fd = loop.Register(a, ownsFd: true);
            loop.Run(async () =>
            {
                pending = fd.ReceiveAsync(new byte[8]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                loop.Dispose();                            // requested: the loop disposes when this iteration ends
                try { fd.Dispose(); } catch (Exception e) { disposeError = e; }
            });
            Assert.That(disposeError, Is.Null, "LoopFd.Dispose stays valid once the loop's disposal is requested");
            Assert.That(fd.IsDisposed, Is.True);
            Assert.That(Posix.IsOpen(a), Is.False, "the owned fd was closed");
            Assert.That(pending!.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>());
        }
        finally
        {
            loop.Dispose();
            Posix.Close(b);
        }
    }

    [Test]
    public void RegisterRefusesBadArgumentsWithoutTakingOwnership()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        Posix.Close(remote);                                   // a closed fd number
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Register(-1));
        var ex = Assert.Throws<LinuxEventException>(() => loop.Register(remote, ownsFd: true));
        Assert.That(ex!.ErrnoName, Is.EqualTo("EBADF"));
        Assert.That(ex.Call, Does.Contain("Register"));
        Assert.That(Posix.IsOpen(remote), Is.False);
        Posix.Close(local);
    }
}

/// <summary>Rules that only the reactor's persistent registration has, on epoll and on the fake.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Reactors))]
public class LoopFdReactorTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ARegisteredFdHasOneEdgeTriggeredRegistrationAndRefusesOtherOwners()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var fd = loop.Register(a);
            if (loop.Fake is { } fake)
            {
                Assert.That(fake.TryGetInterest(a, out var interest), Is.True);
                Assert.That(interest, Is.EqualTo(WatchOptions.Read | WatchOptions.Write | WatchOptions.EdgeTriggered));
            }
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(a))!.Message, Does.Contain("already registered"));
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Watch(a, WatchOptions.Read, _ => { }, null))!.Message, Does.Contain("Loop.Register"));
            Assert.Throws<InvalidOperationException>(() => loop.Unwatch(a));
            fd.Dispose();
            var w = loop.Watch(a, WatchOptions.Read, _ => { }, null);     // free again
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(a))!.Message, Does.Contain("Watcher"));
            w.Cancel();
            if (loop.Fake is { } f2) Assert.That(f2.TryGetInterest(a, out _), Is.False, "disposing removed the registration");
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void AfterAShortReadTheNextReceiveWaitsForAnEdgeAndAFullReadTriesAgainAtOnce()
    {
        // On the fake, data written without an injected edge is invisible to a parked receive: that shows whether the
        // registration probed the socket (recv) or waited for the edge, i.e. the short-read rule itself.
        if (!backend.IsFake) Assert.Ignore("needs the fake's explicit edges");
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var fd = loop.Register(a);
            var results = new List<string>();
            loop.Run(async () =>
            {
                Posix.Write(b, "12345678"u8);
                var buf = new byte[4];
                int n = await fd.ReceiveAsync(buf);                // full read (4 of 8): still readable
                results.Add(Encoding.ASCII.GetString(buf, 0, n));
                n = await fd.ReceiveAsync(buf);                    // tried at once, no edge needed
                results.Add(Encoding.ASCII.GetString(buf, 0, n));
                var big = new byte[16];
                Posix.Write(b, "ab"u8);
                var t = fd.ReceiveAsync(big).AsTask();             // tries (readable), gets "ab": short read
                results.Add(Encoding.ASCII.GetString(big, 0, await t));
                Posix.Write(b, "cd"u8);                             // no edge injected yet
                var parked = fd.ReceiveAsync(big).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
                results.Add(parked.IsCompleted ? "completed without an edge" : "parked");
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await parked));
            });
            Assert.That(results, Is.EqualTo(new[] { "1234", "5678", "ab", "parked", "cd" }));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void AStreamingPeerKeepsTheNextReceiveTryingAfterAShortRead()
    {
        // Data that arrives while nobody waits (an edge with no parked receive) marks the peer as streaming: after a
        // short read the next receive then tries at once instead of waiting for an edge, because more has most likely
        // been queued meanwhile. Seen through the fake's explicit edges.
        if (!backend.IsFake) Assert.Ignore("needs the fake's explicit edges");
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            using var fd = loop.Register(a);
            var results = new List<string>();
            loop.Run(async () =>
            {
                var big = new byte[16];
                Posix.Write(b, "ab"u8);
                loop.Fake!.Inject(a, Readiness.Readable);       // an edge while no receive waits
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                results.Add(Encoding.ASCII.GetString(big, 0, await fd.ReceiveAsync(big)));   // short read
                Posix.Write(b, "cd"u8);                          // queued, no edge injected
                var next = fd.ReceiveAsync(big).AsTask();
                results.Add(next.IsCompleted ? "tried at once" : "parked");
                results.Add(Encoding.ASCII.GetString(big, 0, await next));
                // Now a receive parks (EAGAIN) and its edge arrives while it waits: back to waiting after short reads.
                var parked = fd.ReceiveAsync(big).AsTask();
                Posix.Write(b, "ef"u8);
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await parked));
                Posix.Write(b, "gh"u8);                          // no edge
                var after = fd.ReceiveAsync(big).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
                results.Add(after.IsCompleted ? "completed without an edge" : "parked");
                loop.Fake!.Inject(a, Readiness.Readable);
                results.Add(Encoding.ASCII.GetString(big, 0, await after));
            });
            Assert.That(results, Is.EqualTo(new[] { "ab", "tried at once", "cd", "ef", "parked", "gh" }));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void WaitReadableOnARegisteredFdSeesDataThatIsAlreadyThere()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var fd = loop.Register(a);
            bool immediate = false;
            loop.Run(async () =>
            {
                // Consume the registration's first edge so that no edge is outstanding, then make data arrive.
                var t = fd.ReceiveAsync(new byte[1]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                Posix.Write(b, "xy"u8);
                loop.Fake?.Inject(a, Readiness.Readable);
                await t;                                         // full read of 1 byte: "y" is still queued
                var wait = loop.WaitReadableAsync(a);
                immediate = wait.IsCompleted;
                await wait;
            });
            Assert.That(immediate, Is.True, "the level was checked, not only future edges");
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }
}

/// <summary>Registrations under real traffic, on both real backends.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class LoopFdTrafficTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void PingPongThroughRegistrationsIsLosslessAndAllocatesNothing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        long allocated = -1;
        int rounds = 0;
        try
        {
            using var fa = loop.Register(a);
            using var fb = loop.Register(b);
            loop.Run(async () =>
            {
                var outA = new byte[8];
                var inA = new byte[64];
                var inB = new byte[64];
                async Task Rounds(int count)
                {
                    for (int i = 0; i < count; i++)
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(outA, rounds);
                        var recv = fb.ReceiveAsync(inB);                 // parks: nothing there yet
                        await fa.SendAsync(outA);
                        int n = await recv;
                        if (n != 8 || System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(inB) != rounds)
                            throw new InvalidDataException($"round {rounds}: got {n} bytes");
                        var back = fa.ReceiveAsync(inA);
                        await fb.SendAsync(inB.AsMemory(0, n));
                        if (await back != 8) throw new InvalidDataException($"round {rounds}: short echo");
                        rounds++;
                    }
                }
                await Rounds(500);                                       // warm up pools and JIT tiers
                long before = GC.GetAllocatedBytesForCurrentThread();
                await Rounds(2000);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        Assert.That(rounds, Is.EqualTo(2500));
        Assert.That(allocated, Is.LessThanOrEqualTo(256), "bytes allocated over 8,000 awaited operations (one state machine box at most)");
    }

    [Test]
    public void FourMegabytesThroughAFullSocketBufferArriveIntact()
    {
        // Short writes fill the send buffer, so the writer parks for EPOLLOUT edges (reactor) while the reader drains.
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var payload = new byte[4 << 20];
        new Random(7).NextBytes(payload);
        var received = new byte[payload.Length];
        int total = 0;
        try
        {
            using var fa = loop.Register(a);
            using var fb = loop.Register(b);
            loop.Run(async () =>
            {
                var writer = loop.Spawn(async () => await fa.SendAllAsync(payload));
                while (total < payload.Length)
                {
                    int n = await fb.ReceiveAsync(received.AsMemory(total, Math.Min(8192, payload.Length - total)));
                    if (n == 0) throw new EndOfStreamException();
                    total += n;
                }
                await writer;
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        Assert.That(total, Is.EqualTo(payload.Length));
        Assert.That(received.AsSpan().SequenceEqual(payload), Is.True);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void DisposingRightAfterStartingAReceiveNeverReadsFromAFileThatReusesTheNumber(bool ownsFd)
    {
        // On io_uring the receive is only queued in the SQ until the loop next enters the kernel, and the kernel
        // resolves the fd number when it consumes the SQE. Dispose closes the owned fd at once; a socket created next
        // gets the same number. The queued receive must not end up reading that socket's bytes.
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        int c = -1, d = -1;
        string outcome = "", leftForTheNewSocket = "";
        try
        {
            loop.Run(async () =>
            {
                var fd = loop.Register(a, ownsFd);
                var buf = new byte[16];
                var pending = fd.ReceiveAsync(buf).AsTask();
                fd.Dispose();
                if (!ownsFd) Posix.Close(a);                       // the caller's close, right after Dispose
                (c, d) = Posix.SocketPair();
                Posix.Write(d, "new"u8);
                try { int n = await pending; outcome = "read " + Encoding.ASCII.GetString(buf, 0, n); }
                catch (ObjectDisposedException) { outcome = "disposed"; }
                var rest = new byte[16];
                int m = Posix.TryRead(c, rest);
                leftForTheNewSocket = m > 0 ? Encoding.ASCII.GetString(rest, 0, m) : "";
            });
            Assume.That(c, Is.EqualTo(a), "the new socket reused the closed number");
            Assert.That(outcome, Is.EqualTo("disposed"));
            Assert.That(leftForTheNewSocket, Is.EqualTo("new"));
        }
        finally
        {
            Posix.Close(b);
            if (c >= 0) Posix.Close(c);
            if (d >= 0) Posix.Close(d);
        }
    }

    [Test]
    public void DataAndFinArrivingTogetherEndInEndOfStreamNotAHang()
    {
        // tcp_recvmsg returns short when it reaches the peer's FIN, with no new edge to come: the next receive must
        // still see end-of-stream (a registration that took the short read for "queue empty" would wait forever).
        using var loop = backend.Create();
        var (server, client) = Posix.LoopbackTcpPair();
        var outcomes = new List<string>();
        try
        {
            using var sfd = loop.Register(server);
            // Fill the server's send buffer (the client reads nothing), so the report of the data and the FIN carries
            // no EPOLLOUT: only the read side's own handling can notice the FIN.
            var junk = new byte[64 * 1024];
            while (Posix.TrySend(server, junk) > 0) { }
            loop.Run(async () =>
            {
                var buf = new byte[64];
                var first = sfd.ReceiveAsync(buf).AsTask();       // parks: nothing there yet
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                Posix.Write(client, "PING\r\n"u8);
                Posix.Shutdown(client, 1);                          // SHUT_WR: data and FIN queued before the edge is seen
                outcomes.Add(Encoding.ASCII.GetString(buf, 0, await first));
                var next = sfd.ReceiveAsync(buf).AsTask();
                var timeout = loop.DelayAsync(TimeSpan.FromSeconds(5)).AsTask();
                outcomes.Add(await Task.WhenAny(next, timeout) == next ? "eof:" + next.Result : "hung");
            });
        }
        finally { Posix.Close(server); Posix.Close(client); }
        Assert.That(outcomes, Is.EqualTo(new[] { "PING\r\n", "eof:0" }));
    }

    [Test]
    public void AcceptAndConnectThroughRegistrationsOverLoopbackTcp()
    {
        using var loop = backend.Create();
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        int client = Posix.CreateStreamSocket(System.Net.Sockets.AddressFamily.InterNetwork);
        int server = -1;
        string echoed = "";
        using (var lfd = loop.Register(listener, ownsFd: true))
        using (var cfd = loop.Register(client, ownsFd: true))
        {
            loop.Run(async () =>
            {
                var accept = lfd.AcceptAsync().AsTask();
                await cfd.ConnectAsync(ep);                  // the registration's first edge predates the connect
                server = await accept;
                using var sfd = loop.Register(server, ownsFd: true);
                await cfd.SendAllAsync("over tcp"u8.ToArray());
                var buf = new byte[32];
                int n = await sfd.ReceiveAsync(buf);
                await sfd.SendAsync(buf.AsMemory(0, n));
                n = await cfd.ReceiveAsync(buf);
                echoed = Encoding.ASCII.GetString(buf, 0, n);
            });
        }
        Assert.That(echoed, Is.EqualTo("over tcp"));
        Assert.That(Posix.IsOpen(server), Is.False, "owned fds are closed by their registrations");
    }

    [Test]
    public void ConnectThroughARegistrationToAClosedPortThrowsEconnrefused()
    {
        using var loop = backend.Create();
        int probe = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(probe)!;
        Posix.Close(probe);
        using var cfd = loop.Register(Posix.CreateStreamSocket(System.Net.Sockets.AddressFamily.InterNetwork), ownsFd: true);
        LinuxEventException? error = null;
        loop.Run(async () =>
        {
            try { await cfd.ConnectAsync(ep); }
            catch (LinuxEventException e) { error = e; }
        });
        Assert.That(error?.ErrnoName, Is.EqualTo("ECONNREFUSED"));
    }
}
