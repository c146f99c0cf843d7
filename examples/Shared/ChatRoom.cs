// Shared by examples/chat-server.cs (`#:include Shared/ChatRoom.cs`) and the simulation's chat scenario
// (tools/LinuxEvent.Simulate), which runs this very code on simulated networks under seeded faults.
// The room asks each client for a name (unique, 1-32 visible characters), then relays every line the client sends to
// every other client as "name : line". Joins and departures are announced as "* name joined" / "* name left".
//
// One LoopStream per client, input through LoopStream.OnInput: the room sees what the stream has received and not yet
// consumed, relays every complete line and leaves a partial one in the stream. So an idle client holds no buffer:
// receives go through the loop's shared buffer (reactor) or shared provided-buffer ring (proactor), a partial line is
// all a stream keeps between reads, and its output queue holds an array only while bytes wait for the kernel.
using System.Text;
using LinuxEvent;
using LinuxEvent.Net;

internal sealed class ChatRoom
{
    private const int MaxLine = 4096;                  // longer lines are relayed in pieces of this size
    private const int MaxNameLength = 32;
    private const int MaxQueued = 1024 * 1024;         // per-client outbound limit before it is dropped

    // One options object for every client: the stream keeps a reference, not a copy.
    private static readonly LoopStreamOptions s_streamOptions = new() { HighWatermark = MaxQueued, LowWatermark = MaxQueued / 4 };

    private readonly Loop _loop;
    private readonly Action<string> _log;
    private readonly List<ChatMember> _clients = new();      // every connection, named or not
    private TaskCompletionSource? _allClosed;
    // The stream callbacks, created once for the room: every client shares them (the member rides in LoopStream.Data).
    private readonly StreamInputHandler _onInput;
    private readonly Action<LoopStream, CloseReason> _onClose;

    /// <param name="loop">The loop the room runs on.</param>
    /// <param name="log">Where diagnostics go (the example: stderr; the simulation: its trace).</param>
    public ChatRoom(Loop loop, Action<string> log)
    {
        _loop = loop;
        _log = log;
        _onInput = (s, input) => OnInput((ChatMember)s.Data!, input);
        _onClose = (s, _) => OnClosed((ChatMember)s.Data!);
    }

    /// <summary>Connections currently served (named or not).</summary>
    public int ClientCount => _clients.Count;

    /// <summary>
    /// Accepts on <paramref name="listener"/> (a listening socket the room owns and closes) until <paramref name="stopping"/>
    /// is cancelled, then says goodbye, closes every connection and returns.
    /// </summary>
    public async Task RunAsync(int listener, CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                int fd;
                try
                {
                    fd = await _loop.AcceptAsync(listener, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception ex) when (ex is ILinuxEventError)
                {
                    // Out of fds, or a connection that died in the backlog: report, pause briefly, keep serving.
                    _log($"chat-server: accept: {ex.Message}");
                    try { await _loop.DelayAsync(TimeSpan.FromMilliseconds(10), stopping); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                Accept(fd);
            }
        }
        finally
        {
            Posix.Close(listener);
        }

        // Say goodbye, give the streams a moment to deliver it, then close every connection (bounded wait).
        foreach (var c in _clients) Send(c, "* server shutting down\r\n"u8);
        await _loop.DelayAsync(TimeSpan.FromMilliseconds(100));
        if (_clients.Count > 0)
        {
            _allClosed = new TaskCompletionSource();
            foreach (var c in _clients.ToArray()) c.Stream.Close();
            await Task.WhenAny(_allClosed.Task, _loop.DelayAsync(TimeSpan.FromSeconds(2)).AsTask());
        }
        _log("chat-server: stopped");
    }

    private void Accept(int fd)
    {
        var stream = new LoopStream(_loop, fd, s_streamOptions);
        var client = new ChatMember(stream);
        stream.Data = client;
        stream.OnInput = _onInput;
        stream.OnClose = _onClose;
        client.Index = _clients.Count;
        _clients.Add(client);
        Send(client, "Welcome to LinuxEvent chat! What is your name?\r\n"u8);
        stream.Start();
    }

    /// <summary>Relays every complete line of <paramref name="input"/>; returns the bytes consumed (a partial line stays
    /// in the stream until the rest arrives).</summary>
    private int OnInput(ChatMember c, ReadOnlySpan<byte> input)
    {
        int start = 0;
        while (!c.Stream.IsClosed)
        {
            var rest = input[start..];
            int nl = rest.IndexOf((byte)'\n');
            if (nl < 0)
            {
                if (rest.Length < MaxLine) break;
                OnLine(c, rest[..MaxLine]);              // a line longer than MaxLine: relay what we have as one line
                start += MaxLine;
                continue;
            }
            var line = rest[..nl];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            OnLine(c, line);
            start += nl + 1;
        }
        return c.Stream.IsClosed ? input.Length : start;
    }

    private void OnClosed(ChatMember c)
    {
        // Swap-remove: O(1), so 100,000 departures do not cost a quadratic scan.
        int i = c.Index;
        var last = _clients[^1];
        _clients[i] = last;
        last.Index = i;
        _clients.RemoveAt(_clients.Count - 1);
        c.Index = -1;
        if (c.Name is not null) Broadcast(c, $"* {Encoding.UTF8.GetString(c.Name)} left\r\n");
        if (_clients.Count == 0) _allClosed?.TrySetResult();
    }

    private void OnLine(ChatMember c, ReadOnlySpan<byte> line)
    {
        if (c.Name is null)
        {
            PickName(c, line.Trim(" \t"u8));
            return;
        }
        if (line.IsEmpty) return;
        // "name : line\r\n", built once and queued for every other member.
        var message = new byte[c.Name.Length + 3 + line.Length + 2];
        c.Name.CopyTo(message, 0);
        " : "u8.CopyTo(message.AsSpan(c.Name.Length));
        line.CopyTo(message.AsSpan(c.Name.Length + 3));
        "\r\n"u8.CopyTo(message.AsSpan(message.Length - 2));
        foreach (var other in _clients)
            if (other != c && other.Name is not null) Send(other, message);
    }

    private void PickName(ChatMember c, ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxNameLength || name.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || name.Contains((byte)0x7f))
        {
            Send(c, "Names are 1-32 visible characters. What is your name?\r\n"u8);
            return;
        }
        foreach (var other in _clients)
            if (other.Name is not null && other.Name.AsSpan().SequenceEqual(name))
            {
                Send(c, "That name is taken. What is your name?\r\n"u8);
                return;
            }
        c.Name = name.ToArray();
        string text = Encoding.UTF8.GetString(c.Name);
        var others = _clients.Where(o => o != c && o.Name is not null).Select(o => Encoding.UTF8.GetString(o.Name!)).ToList();
        Send(c, Encoding.UTF8.GetBytes(others.Count == 0
            ? $"Hello {text}! You are the first one here.\r\n"
            : $"Hello {text}! Also here: {string.Join(", ", others)}.\r\n"));
        Broadcast(c, $"* {text} joined\r\n");
    }

    private void Broadcast(ChatMember from, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var other in _clients)
            if (other != from && other.Name is not null) Send(other, bytes);
    }

    /// <summary>Queues bytes for <paramref name="c"/>; a client with more than MaxQueued bytes waiting is dropped.</summary>
    private void Send(ChatMember c, ReadOnlySpan<byte> bytes)
    {
        var s = c.Stream;
        // A client that ended its side is on its way out (the stream closes once its queue drained; OnClose announces
        // the departure): nothing more is queued for it.
        if (s.IsClosed || s.IsPeerEnded) return;
        if (s.QueuedBytes + bytes.Length > MaxQueued)
        {
            _log($"chat-server: dropping a slow client (fd {s.Fd})");
            s.Close();                                 // OnClose announces the departure
            return;
        }
        s.Write(bytes);
    }
}
