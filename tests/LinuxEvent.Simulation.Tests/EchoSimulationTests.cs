using System.Text;

namespace LinuxEvent.Simulation.Tests;

/// <summary>A small echo server over the simulated network, on both models: the basics of the simulation.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class EchoSimulationTests(Backend backend) : FdCheckedTest
{
    private static void Echo(SimHost server)
    {
        server.Bind(7, (_, connection) =>
        {
            var stream = connection.ToStream(server.Loop);
            stream.OnData = (s, data) => s.Write(data);
            stream.OnEnd = s => s.CloseAfterDrain();
            stream.Start();
        });
    }

    [Test]
    public void ClientsGetTheirBytesBack([Values(1UL, 2UL, 3UL, 4UL, 5UL)] ulong seed)
    {
        using var sim = new Simulator(new SimulationOptions { Seed = seed, Model = backend.Model, Faults = FaultProfile.None });
        var server = sim.CreateHost("server");
        Echo(server);
        var received = new StringBuilder[3];
        bool[] closed = new bool[3];
        for (int i = 0; i < 3; i++)
        {
            int k = i;
            received[k] = new StringBuilder();
            var client = sim.CreateHost("client" + k);
            client.Connect(server.EndPoint(7), r =>
            {
                var stream = r.Connection.ToStream(client.Loop);
                stream.OnData = (_, data) => received[k].Append(Encoding.ASCII.GetString(data));
                stream.OnClose = (_, _) => closed[k] = true;
                stream.Start();
                stream.Write(Encoding.ASCII.GetBytes($"hello from {k}"));
                stream.ShutdownWrite();
            });
        }
        Assert.That(sim.RunUntil(() => closed.All(c => c), TimeSpan.FromSeconds(10), "echoes"), Is.True, sim.Failure);
        for (int i = 0; i < 3; i++) Assert.That(received[i].ToString(), Is.EqualTo($"hello from {i}"));
        Assert.That(sim.RunUntil(() => sim.OpenSocketCount == 1, TimeSpan.FromSeconds(10), "closes"), Is.True, sim.Failure);
        sim.ThrowIfFailed();
    }
}
