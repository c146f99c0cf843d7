using System.Globalization;
using System.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Chat;

/// <summary>
/// The chat example's room (examples/Shared/ChatRoom.cs, the very code of examples/chat-server.cs) with 10 clients
/// and 100 messages under the run's faults. Invariants: every message is delivered once and in order per sender; a
/// sender whose bytes all reached the server (no reset) is delivered in full to every client still connected;
/// nothing from a client arrives after "* name left"; and once everyone left, no connection and no fd is left open on
/// any host, and no operation is pending.
/// </summary>
public sealed class ChatScenario : Scenario
{
    /// <summary>The chat room under test: started on the server host's loop with its listening socket and a stop token;
    /// completes once it stopped (the room closes the listening socket).</summary>
    public delegate Task ServerFactory(SimHost host, int listeningSocket, CancellationToken stopping);

    private readonly ServerFactory _server;

    /// <summary>The scenario with the example's <c>ChatRoom</c>, or with <paramref name="server"/> (e.g. a deliberately broken one).</summary>
    public ChatScenario(ServerFactory? server = null, string name = "chat")
    {
        _server = server ?? ExampleRoom;
        Name = name;
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <summary>The example's room: examples/Shared/ChatRoom.cs, unchanged (its diagnostics go to the trace).</summary>
    public static Task ExampleRoom(SimHost host, int listeningSocket, CancellationToken stopping)
        => new ChatRoom(host.Loop, host.Simulator.Note).RunAsync(listeningSocket, stopping);

    /// <summary>Number of clients (default 10).</summary>
    public int Clients { get; init; } = 10;

    /// <summary>Messages each client sends (default 10: 100 in all).</summary>
    public int MessagesPerClient { get; init; } = 10;

    /// <summary>Longest pause between two messages of a client (virtual time, default 20 ms).</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(20);

    internal IPEndPoint ServerEndPoint { get; private set; } = null!;

    /// <summary>The text of message <paramref name="seq"/> of <paramref name="sender"/>: numbered and padded with a
    /// length and content that depend on both, so a torn or mixed-up line shows.</summary>
    public static string FormatMessage(string sender, int seq, int senderIndex)
    {
        int pad = (seq * 37 + senderIndex * 11) % 300;
        return $"msg {seq} from {sender} " + new string((char)('a' + (seq + senderIndex) % 26), pad);
    }

    /// <summary>Parses what <see cref="FormatMessage"/> made; false unless it is intact and from <paramref name="sender"/>.</summary>
    public static bool TryParseMessage(string payload, string sender, out int seq)
    {
        seq = -1;
        var parts = payload.Split(' ');
        if (parts.Length != 5 || parts[0] != "msg" || parts[2] != "from" || parts[3] != sender) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out seq)) return false;
        if (!int.TryParse(sender.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return false;
        return payload == FormatMessage(sender, seq, index);
    }

    /// <inheritdoc />
    protected override void Play(Simulator sim)
    {
        var server = sim.CreateHost("server");
        ServerEndPoint = server.EndPoint(7000);
        var stopping = new CancellationTokenSource();
        int listener = server.Listen(7000);
        Task room = server.Spawn(() => _server(server, listener, stopping.Token));

        var clients = new List<ChatScenarioClient>();
        int leavers = sim.Random.Next(3);                   // 0-2 clients leave early, once they sent everything
        for (int i = 0; i < Clients; i++)
            clients.Add(new ChatScenarioClient(this, sim.CreateHost("c" + i), i, sim.Random.Split(), leaves: i < leavers));
        foreach (var c in clients) c.Connect();

        // 1. Everyone joins (or dies trying): the room is complete before anybody talks.
        if (!sim.RunUntil(() => clients.All(c => c.Joined || !c.Alive), TimeSpan.FromSeconds(120), "every client to join")) return;
        sim.Trace.Note($"joined: {clients.Count(c => c.Joined && c.Alive)} of {Clients}");

        // 2. Everyone talks; leavers leave after their last message. Wait until each client still here has everything.
        foreach (var c in clients) if (c.Alive) c.StartChatting();
        if (!sim.RunUntil(() => clients.All(r => !r.Alive || Complete(r, clients)), TimeSpan.FromSeconds(600), "every message delivered")) return;
        foreach (var r in clients) if (r.Alive) CheckComplete(sim, r, clients);
        if (sim.HasFailed) return;

        // 3. The others leave: the room must close every connection it held, and then stop cleanly.
        foreach (var c in clients) c.Leave();
        if (!sim.RunUntil(() => clients.All(c => c.Closed) && server.OpenSocketCount == 1, TimeSpan.FromSeconds(120), "the server to close every client connection")) return;
        server.Post(_ => stopping.Cancel());
        if (!sim.RunUntil(() => room.IsCompleted, TimeSpan.FromSeconds(60), "the room to stop")) return;
        if (room.IsFaulted) sim.Fail($"the room failed: {room.Exception!.InnerException}");
        ExpectNothingLeft(sim);
    }

    /// <summary>Once a server stopped: every socket closed and every operation settled, within a second (cancellations
    /// take a moment on the proactor).</summary>
    internal static void ExpectNothingLeft(Simulator sim)
    {
        if (sim.HasFailed) return;
        static int Pending(Simulator sim) => sim.Hosts.Sum(h => h.Loop is ProactorLoop p ? p.LiveOperationCount : 0);
        if (sim.RunUntil(() => sim.OpenSocketCount == 0 && Pending(sim) == 0, TimeSpan.FromSeconds(1), "every socket closed and every operation settled")) return;
        foreach (var h in sim.Hosts)
            if (h.Loop is ProactorLoop p && p.LiveOperationCount != 0) sim.Trace.Note($"{h.Name}: {p.LiveOperationCount} operation(s) still pending");
    }

    /// <summary>Whether a sender's messages all reached the server: it wrote them all, and its connection lost nothing.</summary>
    private static bool Delivered(ChatScenarioClient s) => s.DoneSending && s.Host.BytesLost == 0 && (s.Alive || s.Error is null);

    /// <summary>True once <paramref name="r"/> has what it can expect from every other client.</summary>
    private bool Complete(ChatScenarioClient r, List<ChatScenarioClient> clients)
    {
        foreach (var s in clients)
        {
            if (ReferenceEquals(s, r) || !r.KnowsOf(s.Name)) continue;
            if (s.Alive && !s.Leaves)
            {
                if (r.ReceivedFrom(s.Name) < MessagesPerClient) return false;
            }
            else if (!r.SawLeave(s.Name)) return false;      // gone (left, reset, refused): its departure is announced
        }
        return true;
    }

    private void CheckComplete(Simulator sim, ChatScenarioClient r, List<ChatScenarioClient> clients)
    {
        foreach (var s in clients)
        {
            if (ReferenceEquals(s, r)) continue;
            if (!r.KnowsOf(s.Name))
            {
                // Only a client that was gone before r joined may be unknown to r.
                if (s.Alive) sim.Fail($"{r.Name} never heard that {s.Name} joined");
                continue;
            }
            if (Delivered(s) && r.ReceivedFrom(s.Name) != MessagesPerClient)
                sim.Fail($"{r.Name} got {r.ReceivedFrom(s.Name)} of {MessagesPerClient} messages from {s.Name}, whose every byte reached the server");
        }
    }
}
