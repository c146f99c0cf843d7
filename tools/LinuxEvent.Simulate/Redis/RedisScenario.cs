using System.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Redis;

/// <summary>
/// mini-redis (examples/Shared/RedisServer*.cs, the very code of examples/mini-redis.cs) under 8 concurrent clients
/// sending pipelined batches, under the run's faults. Every reply is checked against a model of the store: each
/// client's own keys exactly (TTLs within the window the server's clock could have read), and the counter all clients
/// INCR by linearizability (the values handed out are distinct, and the final value lies between the increments
/// answered and those possibly applied). Then no connection, fd or operation may be left behind.
/// </summary>
public sealed class RedisScenario : Scenario
{
    /// <summary>The key every client increments.</summary>
    public const string SharedCounter = "shared";

    /// <inheritdoc />
    public override string Name => "redis";

    /// <summary>Number of concurrent clients (default 8).</summary>
    public int Clients { get; init; } = 8;

    /// <summary>Commands each client sends (default 40).</summary>
    public int CommandsPerClient { get; init; } = 40;

    /// <summary>Longest pause between two batches of a client (virtual, default 30 ms).</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(30);

    internal IPEndPoint ServerEndPoint { get; private set; } = null!;

    /// <inheritdoc />
    protected override void Play(Simulator sim)
    {
        var server = sim.CreateHost("server");
        ServerEndPoint = server.EndPoint(6379);
        var redis = new RedisServer(server.Loop, sim.Note);
        var stopping = new CancellationTokenSource();
        int listener = server.Listen(6379);
        Task serving = server.Spawn(() => redis.RunAsync(listener, stopping.Token));

        var clients = new List<RedisScenarioClient>();
        for (int i = 0; i < Clients; i++) clients.Add(new RedisScenarioClient(this, sim.CreateHost("r" + i), i, sim.Random.Split()));
        foreach (var c in clients) c.Connect();
        if (!sim.RunUntil(() => clients.All(c => c.Done || !c.Alive), TimeSpan.FromSeconds(600), "every command answered")) return;

        // The shared counter, read by a fresh client once everyone is done (a reset can take the checker too: retry).
        long? final = null;
        for (int attempt = 0; attempt < 5 && final is null && !sim.HasFailed; attempt++)
        {
            var checker = new RedisScenarioClient(this, sim.CreateHost("check" + attempt), 100 + attempt, sim.Random.Split());
            bool asked = false;
            checker.Connect(() =>
            {
                asked = true;
                checker.SendAlone(new RedisCommand(RedisCommandKind.ReadShared, ["GET", SharedCounter], SharedCounter, 0, 0));
            });
            if (!sim.RunUntil(() => checker.LastReply is not null || !checker.Alive, TimeSpan.FromSeconds(60), "the final read")) return;
            if (asked && checker.LastReply is { } reply)
                final = reply.Text is null ? 0 : long.Parse(reply.Text, System.Globalization.CultureInfo.InvariantCulture);
            clients.Add(checker);
        }
        if (final is null)
        {
            if (!sim.HasFailed) sim.Trace.Note("the final read of the shared counter never got through (resets)");
        }
        else CheckCounter(sim, clients, final.Value);

        foreach (var c in clients) c.Leave();
        if (!sim.RunUntil(() => clients.All(c => c.Closed) && server.OpenSocketCount == 1, TimeSpan.FromSeconds(120), "the server to close every client connection")) return;
        server.Post(_ => stopping.Cancel());
        if (!sim.RunUntil(() => serving.IsCompleted, TimeSpan.FromSeconds(60), "the server to stop")) return;
        if (serving.IsFaulted) sim.Fail($"the server failed: {serving.Exception!.InnerException}");
        if (redis.ClientCount != 0) sim.Fail($"the server still lists {redis.ClientCount} connection(s)");
        Chat.ChatScenario.ExpectNothingLeft(sim);
    }

    private static void CheckCounter(Simulator sim, List<RedisScenarioClient> clients, long final)
    {
        var seen = new List<long>();
        int maybe = 0;
        foreach (var c in clients)
        {
            seen.AddRange(c.SharedIncrements);
            maybe += c.UnansweredSharedIncrements;
        }
        seen.Sort();
        for (int i = 1; i < seen.Count; i++)
            if (seen[i] == seen[i - 1]) sim.Fail($"INCR {SharedCounter} answered {seen[i]} twice");
        if (seen.Count > 0 && seen[^1] > final) sim.Fail($"INCR {SharedCounter} answered {seen[^1]}, above the final value {final}");
        if (final < seen.Count || final > seen.Count + maybe)
            sim.Fail($"{SharedCounter} ends at {final}: {seen.Count} increments were answered and {maybe} more may have run");
        sim.Trace.Note($"{SharedCounter} = {final} ({seen.Count} answered, {maybe} unanswered)");
    }
}
