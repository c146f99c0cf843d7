// Installed-package smoke test: this program is copied into a scratch console project that references the packed
// LinuxEvent, LinuxEvent.Net and LinuxEvent.Simulation packages from a local folder, then runs a timer and a TCP echo
// round trip on both models, and an echo over a simulated network.
using System.Net;
using System.Text;
using LinuxEvent;
using LinuxEvent.Net;
using LinuxEvent.Simulation;

foreach (var model in new[] { LoopModel.Reactor, LoopModel.Proactor })
{
    using var loop = Loop.Create(model);
    string echoed = "";
    long waited = 0;
    loop.Run(async () =>
    {
        long t0 = loop.NowNanoseconds;
        await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
        waited = loop.NowNanoseconds - t0;
        using var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, 0), onAccept: null);
        var accepting = listener.AcceptAsync().AsTask();
        var clientConn = await Connector.ConnectAsync(loop, listener.LocalEndPoint!);
        using var server = (await accepting).ToStream(loop);
        using var client = clientConn.ToStream(loop);
        var echo = loop.Spawn(async () =>
        {
            var buf = new byte[64];
            int n = await server.ReadAsync(buf);
            await server.WriteAsync(buf.AsMemory(0, n));
        });
        await client.WriteAsync(Encoding.ASCII.GetBytes("ping"));
        var reply = new byte[64];
        int m = await client.ReadAsync(reply);
        echoed = Encoding.ASCII.GetString(reply, 0, m);
        await echo;
    });
    if (echoed != "ping" || waited < 5_000_000)
    {
        Console.Error.WriteLine($"{model}: FAILED (echoed '{echoed}', timer waited {waited} ns)");
        return 1;
    }
    Console.WriteLine($"{model} ({loop.BackendName}): timer + echo round trip ok");
}

foreach (var model in new[] { LoopModel.Reactor, LoopModel.Proactor })
{
    using var sim = new Simulator(new SimulationOptions { Seed = 1, Model = model, Faults = FaultProfile.None });
    var server = sim.CreateHost("server");
    server.Bind(7, (_, connection) =>
    {
        var echo = connection.ToStream(server.Loop);
        echo.OnData = (s, data) => s.Write(data);
        echo.Start();
    });
    var client = sim.CreateHost("client");
    var echoed = new StringBuilder();
    client.Connect(server.EndPoint(7), result =>
    {
        var stream = result.Connection.ToStream(client.Loop);
        stream.OnData = (_, data) => echoed.Append(Encoding.ASCII.GetString(data));
        stream.Start();
        stream.Write("simulated"u8);
    });
    if (!sim.RunUntil(() => echoed.ToString() == "simulated", TimeSpan.FromSeconds(10), "the echo"))
    {
        Console.Error.WriteLine($"{model}: simulated echo FAILED: {sim.Failure}");
        return 1;
    }
    Console.WriteLine($"{model}: simulated echo ok (trace-hash {sim.Trace.HashText})");
}
return 0;
