using System.Net;
using System.Text;

namespace LinuxEvent.Tests;

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
        LinuxEventSocketException? error = null;
        loop.Run(async () =>
        {
            try { await cfd.ConnectAsync(ep); }
            catch (LinuxEventSocketException e) { error = e; }
        });
        Assert.That(error?.ErrnoName, Is.EqualTo("ECONNREFUSED"));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(System.Net.Sockets.SocketError.ConnectionRefused));
    }
}
