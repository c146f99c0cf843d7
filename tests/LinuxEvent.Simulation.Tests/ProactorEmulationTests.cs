using System.Text;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// On a proactor host the simulation completes what the loop submits: a multishot receive gets every byte in order,
/// and cancellation races the way io_uring's does: with the CancelRace fault a stream that pauses reading may see its
/// receive complete after Cancel() returned true, and no byte is lost.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class ProactorEmulationTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AMultishotReceiveGetsEveryByteInOrder()
    {
        using var sim = new Simulator(new SimulationOptions { Model = backend.Model, Faults = new FaultProfile { PartialIo = 0.5 } });
        var server = sim.CreateHost("server");
        var client = sim.CreateHost("client");
        int listener = server.Listen(9);
        var received = new MemoryStream();
        bool ended = false;
        server.Spawn(async () =>
        {
            int fd = await server.Loop.AcceptAsync(listener);
            Posix.Close(listener);
            var loop = (ProactorLoop)server.Loop;
            var pool = loop.CreateBufferPool(8, 64);
            loop.ReceiveMultishot(fd, pool, (_, data) => received.Write(data), op =>
            {
                ended = op.State == OperationState.Completed && op.Result == 0;
                pool.Dispose();
                Posix.Close(fd);
            });
        });
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        client.Connect(server.EndPoint(9), r =>
        {
            var s = r.Connection.ToStream(client.Loop);
            s.Write(payload);
            s.CloseAfterDrain();
        });
        Assert.That(sim.RunUntil(() => ended, TimeSpan.FromSeconds(10), "EOF on the multishot receive"), Is.True, sim.Failure);
        Assert.That(received.ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public void PausingAStreamNeverLosesTheBytesACancelledReceiveRacedIn([Values(1UL, 2UL, 3UL, 4UL)] ulong seed)
    {
        using var sim = new Simulator(new SimulationOptions { Seed = seed, Model = backend.Model, Faults = new FaultProfile { CancelRace = 1 } });
        var server = sim.CreateHost("server");
        var client = sim.CreateHost("client");
        var got = new StringBuilder();
        server.Bind(9, (_, c) =>
        {
            var s = c.ToStream(server.Loop);
            s.OnData = (x, d) =>
            {
                got.Append(Encoding.ASCII.GetString(d));
                x.PauseRead();                               // cancels the next receive: the bytes racing it must survive
                server.Loop.After(TimeSpan.FromMilliseconds(1), x, static (_, y) => y.ResumeRead());
            };
            s.Start();
        });
        var expected = new StringBuilder();
        client.Connect(server.EndPoint(9), r =>
        {
            var s = r.Connection.ToStream(client.Loop);
            for (int i = 0; i < 50; i++)
            {
                string line = $"line {i}\n";
                expected.Append(line);
                int k = i;
                client.Loop.After(TimeSpan.FromTicks(k * 3_000), _ => s.Write(Encoding.ASCII.GetBytes(line)));
            }
        });
        Assert.That(sim.RunUntil(() => got.Length == expected.Length && expected.Length > 0, TimeSpan.FromSeconds(10), "every line"), Is.True, sim.Failure);
        Assert.That(got.ToString(), Is.EqualTo(expected.ToString()));
    }
}
