// Shared by examples/chat-server.cs (`#:include Shared/ChatRoom.cs`) and the simulation's chat scenario
// (tools/LinuxEvent.Simulate), which runs this very code on simulated networks under seeded faults.
// The room asks each client for a name (unique, 1-32 visible characters), then relays every line the client sends to
// every other client as "name : line". Joins and departures are announced as "* name joined" / "* name left".
using System.Text;
using LinuxEvent;

internal sealed class ChatRoom
{
    private const int MaxLine = 4096;                  // longer lines are relayed in pieces of this size
    private const int MaxNameLength = 32;
    private const int MaxQueued = 1024 * 1024;         // per-client outbound limit before it is dropped

    private readonly Loop _loop;
    private readonly Action<string> _log;
    private readonly List<ChatMember> _clients = new();      // every connection, named or not

    /// <param name="loop">The loop the room runs on.</param>
    /// <param name="log">Where diagnostics go (the example: stderr).</param>
    public ChatRoom(Loop loop, Action<string> log)
    {
        _loop = loop;
        _log = log;
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
                    _log($"chat-server: accept: {ex.Message}");
                    try { await _loop.DelayAsync(TimeSpan.FromMilliseconds(10), stopping); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                var client = new ChatMember(fd);
                _clients.Add(client);
                client.Completion = _loop.Spawn(() => ServeAsync(client));
            }
        }
        finally
        {
            Posix.Close(listener);
        }

        // Say goodbye, give the writers a moment to deliver it, then cut every connection (pending receives see EOF).
        var tasks = new List<Task>();
        foreach (var c in _clients)
        {
            Enqueue(c, "* server shutting down\r\n"u8);
            tasks.Add(c.Completion);
        }
        await _loop.DelayAsync(TimeSpan.FromMilliseconds(100));
        foreach (var c in _clients.ToArray()) Drop(c);
        await Task.WhenAny(Task.WhenAll(tasks), _loop.DelayAsync(TimeSpan.FromSeconds(2)).AsTask());
        _log("chat-server: stopped");
    }

    private async Task ServeAsync(ChatMember c)
    {
        var buffer = new byte[MaxLine];
        int length = 0;
        try
        {
            Enqueue(c, "Welcome to LinuxEvent chat! What is your name?\r\n"u8);
            while (true)
            {
                int n = await _loop.ReceiveAsync(c.Fd, buffer.AsMemory(length));
                if (n == 0) break;
                length += n;
                int start = 0;
                while (true)
                {
                    int nl = buffer.AsSpan(start, length - start).IndexOf((byte)'\n');
                    if (nl < 0) break;
                    var line = buffer.AsSpan(start, nl);
                    if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
                    OnLine(c, line);
                    start += nl + 1;
                }
                if (start == 0 && length == buffer.Length)
                {
                    OnLine(c, buffer);         // a line longer than MaxLine: relay what we have as one line
                    start = length;
                }
                buffer.AsSpan(start, length - start).CopyTo(buffer);
                length -= start;
            }
        }
        catch (Exception e) when (e is ILinuxEventError)
        {
            // ECONNRESET and friends: the client vanished.
        }
        finally
        {
            _clients.Remove(c);
            if (c.Name is not null) Broadcast(c, $"* {Encoding.UTF8.GetString(c.Name)} left\r\n");
            c.ReaderDone = true;
            if (c.Writing) Shutdown(c);        // wakes a writer stuck on a full socket; it closes the fd when it ends
            else Posix.Close(c.Fd);
        }
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
            if (other != c && other.Name is not null) Enqueue(other, message);
    }

    private void PickName(ChatMember c, ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxNameLength || name.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || name.Contains((byte)0x7f))
        {
            Enqueue(c, "Names are 1-32 visible characters. What is your name?\r\n"u8);
            return;
        }
        foreach (var other in _clients)
            if (other.Name is not null && other.Name.AsSpan().SequenceEqual(name))
            {
                Enqueue(c, "That name is taken. What is your name?\r\n"u8);
                return;
            }
        c.Name = name.ToArray();
        string text = Encoding.UTF8.GetString(c.Name);
        var others = _clients.Where(o => o != c && o.Name is not null).Select(o => Encoding.UTF8.GetString(o.Name!)).ToList();
        Enqueue(c, Encoding.UTF8.GetBytes(others.Count == 0
            ? $"Hello {text}! You are the first one here.\r\n"
            : $"Hello {text}! Also here: {string.Join(", ", others)}.\r\n"));
        Broadcast(c, $"* {text} joined\r\n");
    }

    private void Broadcast(ChatMember from, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var other in _clients)
            if (other != from && other.Name is not null) Enqueue(other, bytes);
    }

    /// <summary>Queues bytes for <paramref name="c"/> and starts its writer if none is running.</summary>
    private void Enqueue(ChatMember c, ReadOnlySpan<byte> bytes)
    {
        if (c.ReaderDone || c.Dropped) return;
        if (c.OutboundLength + bytes.Length > MaxQueued)
        {
            _log($"chat-server: dropping a slow client (fd {c.Fd})");
            Drop(c);
            return;
        }
        if (c.Outbound.Length - c.OutboundLength < bytes.Length)
            Array.Resize(ref c.Outbound, Math.Max(c.Outbound.Length * 2, c.OutboundLength + bytes.Length));
        bytes.CopyTo(c.Outbound.AsSpan(c.OutboundLength));
        c.OutboundLength += bytes.Length;
        if (!c.Writing)
        {
            c.Writing = true;
            _loop.Spawn(() => WriteAsync(c));
        }
    }

    /// <summary>Sends the queue until it is empty. The only task that sends on this fd, so sends never interleave.</summary>
    private async Task WriteAsync(ChatMember c)
    {
        try
        {
            while (c.OutboundLength > 0 && !c.ReaderDone)
            {
                (c.Sending, c.Outbound) = (c.Outbound, c.Sending);        // new messages queue up while we send
                int length = c.OutboundLength;
                c.OutboundLength = 0;
                for (int sent = 0; sent < length;)
                    sent += await _loop.SendAsync(c.Fd, c.Sending.AsMemory(sent, length - sent));
            }
        }
        catch (Exception e) when (e is ILinuxEventError)
        {
            Drop(c);           // the reader will see EOF and clean up
        }
        finally
        {
            c.Writing = false;
            if (c.ReaderDone) Posix.Close(c.Fd);
        }
    }

    /// <summary>Disconnects a client from the server side: its reader sees EOF and runs the usual cleanup.</summary>
    private static void Drop(ChatMember c)
    {
        if (c.Dropped || c.ReaderDone) return;
        c.Dropped = true;
        Shutdown(c);
    }

    private static void Shutdown(ChatMember c)
    {
        try { Posix.Shutdown(c.Fd, 2); }
        catch (Exception e) when (e is ILinuxEventError) { /* already disconnected */ }
    }
}
