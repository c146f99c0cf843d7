using System.Text;
using LinuxEvent.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Chat;

/// <summary>
/// One chat user on its own simulated host: connects with <see cref="Connector"/>, talks through a
/// <see cref="LoopStream"/> with a <see cref="LineCodec"/>, picks its name, sends its numbered messages with seeded pauses,
/// and checks every line it receives as it arrives (sender known, in order, once, intact, nothing after "left").
/// </summary>
public sealed class ChatScenarioClient
{
    private readonly ChatScenario _scenario;
    private readonly SimRandom _random;
    private readonly Dictionary<string, int> _next = new();         // sender -> next expected sequence number (lookups only)
    private readonly HashSet<string> _left = new(), _roster = new(); // lookups only
    private LoopStream? _stream;
    private int _sent;

    internal ChatScenarioClient(ChatScenario scenario, SimHost host, int index, SimRandom random, bool leaves)
    {
        _scenario = scenario;
        Host = host;
        Index = index;
        Name = "c" + index;
        _random = random;
        Leaves = leaves;
    }

    /// <summary>The client's simulated host.</summary>
    public SimHost Host { get; }

    /// <summary>The client's number.</summary>
    public int Index { get; }

    /// <summary>The client's chat name.</summary>
    public string Name { get; }

    /// <summary>True for a client that leaves (closes) once it sent all its messages.</summary>
    public bool Leaves { get; }

    /// <summary>The server said hello: the room knows the client's name.</summary>
    public bool Joined { get; private set; }

    /// <summary>The stream closed (or the connect failed). <see cref="Error"/> says why when it was not the client's doing.</summary>
    public bool Closed { get; private set; }

    /// <summary>The connect failure or stream error that ended the client, or null.</summary>
    public Exception? Error { get; private set; }

    /// <summary>True once all messages were written (queued to the stream).</summary>
    public bool DoneSending => _sent == _scenario.MessagesPerClient;

    /// <summary>True while the client is connected and was not ended by an error.</summary>
    public bool Alive => !Closed && Error is null;

    /// <summary>Messages received from <paramref name="sender"/> so far (they are numbered from 0, so also the next one expected).</summary>
    public int ReceivedFrom(string sender) => _next.TryGetValue(sender, out int n) ? n : 0;

    /// <summary>True once "* sender left" arrived.</summary>
    public bool SawLeave(string sender) => _left.Contains(sender);

    /// <summary>True once the client knows <paramref name="sender"/> is in the room (its roster or a join notice).</summary>
    public bool KnowsOf(string sender) => _roster.Contains(sender);

    internal void Connect() => Host.Connect(_scenario.ServerEndPoint, OnConnected);

    private void OnConnected(ConnectResult result)
    {
        if (!result.Succeeded)
        {
            Error = result.Error;
            Closed = true;
            Host.Simulator.Trace.Note($"{Name} could not connect: {result.Error!.Message}");
            return;
        }
        var stream = result.Connection.ToStream(Host.Loop, new LoopStreamOptions { Codec = new LineCodec(maxLineLength: 8192, allowUnterminatedLastLine: false) });
        _stream = stream;
        stream.OnMessage = (_, line) => OnLine(Encoding.UTF8.GetString(line));
        stream.OnError = (_, ex) => Error ??= ex;
        stream.OnClose = (_, reason) =>
        {
            Closed = true;
            Host.Simulator.Trace.Note($"{Name} closed ({reason})");
        };
        stream.Start();
    }

    private void Check(bool condition, string what)
    {
        if (!condition) Host.Simulator.Fail($"{Name}: {what}");
    }

    private void OnLine(string line)
    {
        if (!Joined)
        {
            if (line.EndsWith("What is your name?", StringComparison.Ordinal))
            {
                _stream!.WriteMessage(Encoding.UTF8.GetBytes(Name));
                return;
            }
            Check(line.StartsWith("Hello " + Name + "!", StringComparison.Ordinal), $"expected the greeting, got \"{line}\"");
            Joined = true;
            int also = line.IndexOf("Also here: ", StringComparison.Ordinal);
            if (also >= 0)
                foreach (var other in line[(also + 11)..].TrimEnd('.').Split(", ")) _roster.Add(other);
            Host.Simulator.Trace.Note($"{Name} joined ({_roster.Count} here before)");
            return;
        }
        if (line.StartsWith("* ", StringComparison.Ordinal))
        {
            if (line.EndsWith(" joined", StringComparison.Ordinal)) _roster.Add(line[2..^7]);
            else if (line.EndsWith(" left", StringComparison.Ordinal))
            {
                string who = line[2..^5];
                Check(_roster.Contains(who), $"\"{line}\" for a client never announced");
                Check(_left.Add(who), $"\"{line}\" twice");
            }
            else Check(line == "* server shutting down", $"unexpected notice \"{line}\"");
            return;
        }
        int colon = line.IndexOf(" : ", StringComparison.Ordinal);
        if (colon < 0)
        {
            Check(false, $"unexpected line \"{line}\"");
            return;
        }
        string sender = line[..colon], payload = line[(colon + 3)..];
        Check(sender != Name, $"got its own message back: \"{line}\"");
        Check(_roster.Contains(sender), $"a message from {sender}, never announced: \"{line}\"");
        Check(!_left.Contains(sender), $"a message from {sender} after \"* {sender} left\": \"{line}\"");
        int expected = ReceivedFrom(sender);
        Check(ChatScenario.TryParseMessage(payload, sender, out int seq), $"a corrupted message from {sender}: \"{line}\"");
        Check(seq == expected, seq < expected
            ? $"message {seq} of {sender} delivered twice or out of order (expected {expected})"
            : $"message {expected} of {sender} missing: got {seq} (a gap in its stream)");
        _next[sender] = seq + 1;
        MaybeStopReading();
    }

    /// <summary>The StopReading fault at the application's level: the user stops reading for a while (LoopStream.PauseRead,
    /// which on the proactor cancels a receive that may still complete), so the server's queue for it backs up.</summary>
    private void MaybeStopReading()
    {
        var sim = Host.Simulator;
        if (_stream is not { IsClosed: false, IsReadPaused: false } stream || !_random.Chance(sim.Faults.StopReading)) return;
        var pause = TimeSpan.FromTicks(_random.NextInRange(1, sim.Faults.MaxStall.Ticks));
        sim.Trace.Note($"{Name} stops reading for {pause.TotalMilliseconds:0.###} ms");
        stream.PauseRead();
        Host.Loop.After(pause, stream, static (_, s) => s.ResumeRead());
    }

    /// <summary>Starts sending after a seeded pause (the room is complete).</summary>
    internal void StartChatting() => Host.Post(loop => loop.After(Pause(), this, static (_, c) => c.SendNext()));

    private TimeSpan Pause() => TimeSpan.FromTicks(_random.NextInRange(0, _scenario.MaxPause.Ticks));

    private void SendNext()
    {
        // The peer ended the stream (it closes once drained: writing is over), or it closed.
        if (_stream is not { IsClosed: false, IsPeerEnded: false } stream || Error is not null) return;
        stream.WriteMessage(Encoding.UTF8.GetBytes(ChatScenario.FormatMessage(Name, _sent, Index)));
        _sent++;
        if (_sent < _scenario.MessagesPerClient) Host.Loop.After(Pause(), this, static (_, c) => c.SendNext());
        else if (Leaves)
        {
            Host.Simulator.Trace.Note($"{Name} leaves");
            stream.CloseAfterDrain();
        }
    }

    /// <summary>Leaves at the end of the run (everything received): closes the stream.</summary>
    internal void Leave() => Host.Post(_ => _stream?.CloseAfterDrain());
}
