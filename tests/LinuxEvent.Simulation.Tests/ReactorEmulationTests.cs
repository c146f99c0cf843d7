namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// On a reactor host the simulation plays epoll: a level-triggered watcher hears of a readable socket until it is
/// drained, an edge-triggered one once per arrival, a one-shot one once until re-armed; a raw non-blocking connect
/// (socket + ConnectAsync) completes when the handshake does.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeReactors))]
public class ReactorEmulationTests(Backend backend) : FdCheckedTest
{
    /// <summary>A connected (client fd, server fd) pair of raw simulated sockets, without faults.</summary>
    private static (Simulator Sim, SimHost Client, int ClientFd, SimHost Server, int ServerFd) Pair(LoopModel model)
    {
        var sim = new Simulator(new SimulationOptions { Model = model, Faults = FaultProfile.None });
        var server = sim.CreateHost("server");
        var client = sim.CreateHost("client");
        int listener = server.Listen(9);
        int serverFd = -1, clientFd = client.CreateSocket();
        server.Spawn(async () => { serverFd = await server.Loop.AcceptAsync(listener); Posix.Close(listener); });
        var connected = client.Spawn(async () => await client.Loop.ConnectAsync(clientFd, server.EndPoint(9)));
        Assert.That(sim.RunUntil(() => serverFd >= 0 && connected.IsCompleted, TimeSpan.FromSeconds(5), "the connection"), Is.True, sim.Failure);
        Assert.That(connected.IsCompletedSuccessfully, Is.True);
        return (sim, client, clientFd, server, serverFd);
    }

    private static void Send(Simulator sim, SimHost from, int fd, int bytes)
    {
        bool sent = false;
        from.Spawn(async () => { await from.Loop.SendAsync(fd, new byte[bytes]); sent = true; });
        Assert.That(sim.RunUntil(() => sent, TimeSpan.FromSeconds(5), "the send"), Is.True, sim.Failure);
    }

    [Test]
    public void LevelTriggeredReportsRepeatWhileTheSocketStaysReadable()
    {
        var (sim, client, clientFd, server, serverFd) = Pair(backend.Model);
        using (sim)
        {
            int reports = 0;
            var reactor = (ReactorLoop)server.Loop;
            // Never reads (its own recv would be a real syscall on the placeholder, which the simulation cannot serve):
            // level triggering reports it on every iteration, until the watcher gives up.
            server.Post(_ => reactor.Watch(serverFd, WatchOptions.Read, w => { if (++reports == 3) w.Cancel(); }, null));
            Send(sim, client, clientFd, 100);
            sim.RunFor(TimeSpan.FromSeconds(1));
            Assert.That(reports, Is.EqualTo(3));
            Posix.Close(serverFd);
            Posix.Close(clientFd);
        }
    }

    [Test]
    public void AStreamDrainsWhatShortReadsLeaveThroughRepeatedLevelReports()
    {
        using var sim = new Simulator(new SimulationOptions { Model = backend.Model, Faults = new FaultProfile { PartialIo = 1 } });
        var server = sim.CreateHost("server");
        var client = sim.CreateHost("client");
        var received = new MemoryStream();
        server.Bind(9, (_, c) =>
        {
            var s = c.ToStream(server.Loop);
            s.OnData = (_, d) => received.Write(d);
            s.Start();
        });
        var payload = Enumerable.Range(0, 20_000).Select(i => (byte)(i % 251)).ToArray();
        client.Connect(server.EndPoint(9), r => r.Connection.ToStream(client.Loop).Write(payload));
        Assert.That(sim.RunUntil(() => received.Length == payload.Length, TimeSpan.FromSeconds(10), "every byte"), Is.True, sim.Failure);
        Assert.That(received.ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public void EdgeTriggeredReportsOncePerArrival()
    {
        var (sim, client, clientFd, server, serverFd) = Pair(backend.Model);
        using (sim)
        {
            int reports = 0;
            var reactor = (ReactorLoop)server.Loop;
            server.Post(_ => reactor.Watch(serverFd, WatchOptions.Read | WatchOptions.EdgeTriggered, _ => reports++, null));
            sim.RunFor(TimeSpan.FromMilliseconds(10));
            int afterRegistration = reports;                         // ADD reports the current state once (writable, no interest: nothing)
            Send(sim, client, clientFd, 10);
            sim.RunFor(TimeSpan.FromSeconds(1));
            Assert.That(reports - afterRegistration, Is.EqualTo(1), "one arrival, one report, although nothing was read");
            Send(sim, client, clientFd, 10);
            sim.RunFor(TimeSpan.FromSeconds(1));
            Assert.That(reports - afterRegistration, Is.EqualTo(2));
            server.Post(_ => reactor.Unwatch(serverFd));
            sim.RunFor(TimeSpan.FromMilliseconds(1));
            Posix.Close(serverFd);
            Posix.Close(clientFd);
        }
    }

    [Test]
    public void OneShotReportsOnceUntilReArmed()
    {
        var (sim, client, clientFd, server, serverFd) = Pair(backend.Model);
        using (sim)
        {
            int reports = 0;
            Watcher? watcher = null;
            var reactor = (ReactorLoop)server.Loop;
            server.Post(_ => watcher = reactor.Watch(serverFd, WatchOptions.Read | WatchOptions.OneShot, _ => reports++, null));
            Send(sim, client, clientFd, 10);
            sim.RunFor(TimeSpan.FromSeconds(1));
            Assert.That(reports, Is.EqualTo(1));
            server.Post(_ => watcher!.EnableRead());                 // MOD re-arms: still unread, so reported again
            sim.RunFor(TimeSpan.FromSeconds(1));
            Assert.That(reports, Is.EqualTo(2));
            server.Post(_ => watcher!.Cancel());
            sim.RunFor(TimeSpan.FromMilliseconds(1));
            Posix.Close(serverFd);
            Posix.Close(clientFd);
        }
    }
}
