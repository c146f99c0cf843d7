using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Listener and Connector on real loopback sockets, on both models.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ListenerConnectorTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void TcpEchoThroughListenerAndConnectorWithTypedPeerEndpoints()
    {
        using var loop = backend.Create();
        var streams = new List<LoopStream>();
        SocketConnection? accepted = null;
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) =>
        {
            accepted = c;
            var s = c.ToStream(loop, new LoopStreamOptions { Codec = new LineCodec() });
            s.OnMessage = (st, m) => st.WriteMessage(m);
            s.Start();
            streams.Add(s);
        });
        var local = (IPEndPoint)listener.LocalEndPoint!;
        Assert.That(local.Port, Is.Not.Zero);
        ConnectResult? result = null;
        Connector.Connect(loop, local, r => result = r);
        Assert.That(result, Is.Null, "never completes inside Connect");
        loop.RunUntil(() => result is not null && accepted is not null);
        Assert.That(result!.Value.Succeeded, Is.True, result.Value.Error?.Message);
        var client = result.Value.Connection.ToStream(loop, new LoopStreamOptions { Codec = new LineCodec() });
        var replies = new List<string>();
        client.OnMessage = (_, m) => replies.Add(Encoding.ASCII.GetString(m));
        client.Start();
        client.WriteMessage("ping"u8);
        loop.RunUntil(() => replies.Count == 1);
        Assert.That(replies[0], Is.EqualTo("ping"));
        var peer = (IPEndPoint)accepted!.Value.RemoteEndPoint!;
        Assert.That(peer.Address, Is.EqualTo(IPAddress.Loopback));
        Assert.That(peer.Port, Is.EqualTo(((IPEndPoint)Posix.GetLocalEndPoint(client.Fd)!).Port));
        Assert.That(result.Value.Connection.RemoteEndPoint, Is.EqualTo(local));
        client.Close();
        loop.RunUntil(() => streams[0].IsClosed && client.Completion.IsCompleted);
        loop.RunUntil(() => streams[0].Completion.IsCompleted);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void Ipv6LoopbackWhenAvailable()
    {
        using var loop = backend.Create();
        Listener listener;
        try { listener = Listener.Bind(loop, new IPEndPoint(IPAddress.IPv6Loopback, 0), null, new ListenerOptions { IPv6Only = true }); }
        catch (LinuxEventSocketException ex) { Assert.Ignore("no IPv6 loopback here: " + ex.Message); return; }
        using (listener)
        {
            var ep = (IPEndPoint)listener.LocalEndPoint!;
            Assert.That(ep.AddressFamily, Is.EqualTo(AddressFamily.InterNetworkV6));
            Task<SocketConnection>? accept = null;
            SocketConnection? connected = null;
            loop.Run(async () =>
            {
                accept = listener.AcceptAsync().AsTask();
                connected = await Connector.ConnectAsync(loop, ep);
                var c = await accept;
                Assert.That(((IPEndPoint)c.RemoteEndPoint!).Address, Is.EqualTo(IPAddress.IPv6Loopback));
                Posix.Close(c.Fd);
            });
            Posix.Close(connected!.Value.Fd);
        }
        Net.Settle(loop);
    }

    [Test]
    public void UnixSocketPathIsCreatedAndUnlinkedAndPeersConnectByPath()
    {
        using var loop = backend.Create();
        string path = Path.Combine(Path.GetTempPath(), $"le-net-{Environment.ProcessId}-{backend}.sock");
        File.Delete(path);
        int accepted = 0;
        var listener = Listener.Bind(loop, new UnixDomainSocketEndPoint(path), (_, c) =>
        {
            accepted++;
            Assert.That(c.RemoteEndPoint, Is.Null, "an unnamed Unix client has no address");
            Posix.Close(c.Fd);
        });
        Assert.That(File.Exists(path), Is.True);
        ConnectResult? r = null;
        Connector.Connect(loop, new UnixDomainSocketEndPoint(path), x => r = x);
        loop.RunUntil(() => r is not null && accepted == 1);
        Assert.That(r!.Value.Succeeded, Is.True);
        Posix.Close(r.Value.Connection.Fd);
        listener.Dispose();
        Assert.That(File.Exists(path), Is.False, "the listener unlinks the path it created");
        r = null;
        Connector.Connect(loop, new UnixDomainSocketEndPoint(path), x => r = x);
        loop.RunUntil(() => r is not null);
        Assert.That(r!.Value.Error!.Errno, Is.EqualTo(2), "ENOENT for a missing socket path");
        Net.Settle(loop);
    }

    [Test]
    public void WrappedSocketIsNotClosedUnlessOwned()
    {
        using var loop = backend.Create();
        int fd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var listener = Listener.FromSocket(loop, fd, ownsSocket: false, (_, c) => Posix.Close(c.Fd));
        listener.Dispose();
        Net.Settle(loop);
        Assert.That(Posix.IsOpen(fd), Is.True);
        var owned = Listener.FromSocket(loop, fd, ownsSocket: true, (_, c) => Posix.Close(c.Fd));
        owned.Dispose();
        Net.Settle(loop);
        Assert.That(Posix.IsOpen(fd), Is.False);
    }

    [Test]
    public void ThrowingAcceptHandlerGoesToTheLoopAndTheListenerKeepsAccepting()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, e) => errors.Add(e);
        int calls = 0;
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) =>
        {
            calls++;
            Posix.Close(c.Fd);                      // the handler owns the fd even when it throws afterwards
            if (calls == 1) throw new InvalidOperationException("handler bug");
        });
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        var clients = new List<int>();
        for (int i = 0; i < 3; i++) clients.Add(Posix.StartTcpConnect(ep, out _));
        loop.RunUntil(() => calls == 3);
        Assert.That(errors.Select(e => e.Message), Is.EqualTo(new[] { "handler bug" }));
        foreach (var c in clients) Posix.Close(c);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void PauseStopsAcceptingAndResumeHandsOutTheWaitingConnections()
    {
        using var loop = backend.Create();
        int calls = 0;
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => { calls++; Posix.Close(c.Fd); });
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        listener.Pause();
        loop.RunOnce(TimeSpan.FromMilliseconds(5));
        int c1 = Posix.StartTcpConnect(ep, out _), c2 = Posix.StartTcpConnect(ep, out _);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(5));
        Assert.That(calls, Is.Zero);
        listener.Resume();
        loop.RunUntil(() => calls == 2);
        Posix.Close(c1);
        Posix.Close(c2);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void PerIterationCapSpreadsABurstOverSeveralIterations()
    {
        using var loop = backend.Create();
        int calls = 0;
        var perIteration = new List<int>();
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => { calls++; Posix.Close(c.Fd); },
            new ListenerOptions { MaxAcceptsPerIteration = 4 });
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        var clients = Enumerable.Range(0, 20).Select(_ => Posix.StartTcpConnect(ep, out _)).ToList();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (calls < 20 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            int before = calls;
            loop.RunOnce(TimeSpan.FromMilliseconds(20));
            if (calls > before) perIteration.Add(calls - before);
        }
        Assert.That(calls, Is.EqualTo(20));
        Assert.That(perIteration.Max(), Is.LessThanOrEqualTo(8), "at most the cap per iteration (plus one deferred batch)");
        foreach (var c in clients) Posix.Close(c);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void RefusedConnectGivesAClearErrorAnd500RefusalsLeaveNothingBehind()
    {
        using var loop = backend.Create();
        // A port that was just bound and released: nobody listens there.
        int probe = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var dead = (IPEndPoint)Posix.GetLocalEndPoint(probe)!;
        Posix.Close(probe);
        int baseline = Fds.Count();
        int done = 0;
        LinuxEventSocketException? first = null;
        for (int i = 0; i < 500; i++)
        {
            Connector.Connect(loop, dead, r =>
            {
                done++;
                Assert.That(r.Succeeded, Is.False);
                first ??= r.Error;
            }, new ConnectOptions { Timeout = TimeSpan.FromSeconds(10) });
            if (i % 50 == 49) loop.RunUntil(() => done == i + 1);
        }
        loop.RunUntil(() => done == 500);
        Assert.That(first!.Errno, Is.EqualTo(111));
        Assert.That(first.ErrnoName, Is.EqualTo("ECONNREFUSED"));
        Assert.That(first.Message, Does.Contain(dead.ToString()));
        Assert.That(loop.PendingTimerCount, Is.Zero, "no timeout left behind");
        Net.Settle(loop);
        Assert.That(Fds.CountSettled(baseline), Is.EqualTo(baseline));
    }

    [Test]
    public void CandidatesAreTriedInOrderAndCancelIsSilent()
    {
        using var loop = backend.Create();
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => Posix.Close(c.Fd));
        int probe = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var dead = (IPEndPoint)Posix.GetLocalEndPoint(probe)!;
        Posix.Close(probe);
        ConnectResult? r = null;
        Connector.Connect(loop, [dead, listener.LocalEndPoint!], x => r = x);
        loop.RunUntil(() => r is not null);
        Assert.That(r!.Value.Succeeded, Is.True);
        Assert.That(r.Value.Connection.RemoteEndPoint, Is.EqualTo(listener.LocalEndPoint));
        Posix.Close(r.Value.Connection.Fd);

        bool called = false;
        var attempt = Connector.Connect(loop, listener.LocalEndPoint!, _ => called = true);
        Assert.That(attempt.Cancel(), Is.True);
        Assert.That(attempt.Cancel(), Is.False);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(5));
        Assert.That(called, Is.False, "cancel is silent");
        Assert.That(loop.PendingTimerCount, Is.Zero);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void HostNameIsResolvedOffTheLoopThread()
    {
        using var loop = backend.Create();
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => Posix.Close(c.Fd));
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        SocketConnection? conn = null;
        loop.Run(async () => conn = await Connector.ConnectAsync(loop, "localhost", port, new ConnectOptions { Timeout = TimeSpan.FromSeconds(10) }));
        Assert.That(((IPEndPoint)conn!.Value.RemoteEndPoint!).Port, Is.EqualTo(port));
        Posix.Close(conn.Value.Fd);
        LinuxEventSocketException? error = null;
        loop.Run(async () =>
        {
            try { await Connector.ConnectAsync(loop, "no-such-host.invalid", port); }
            catch (LinuxEventSocketException ex) { error = ex; }
        });
        Assert.That(error!.Message, Does.Contain("no-such-host.invalid"));
        listener.Dispose();
        Net.Settle(loop);
    }
}
