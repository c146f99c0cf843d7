using System.Net;
using System.Text;
using LinuxEvent.Hosting;
using LinuxEvent.Net;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Examples.HostedChat;

/// <summary>
/// The chat room's part on one loop (one instance per loop, created by the host): accepts clients, reads their lines
/// (LineCodec), and relays them to the clients of this loop directly and of the other loops through Loop.Post.
/// Everything here runs on this loop's thread.
/// </summary>
internal sealed class ChatLoop(HostedLoop hosted, ChatDirectory directory, ChatSettings settings, ILogger<ChatLoop> logger) : ILoopService
{
    private const int MaxLine = 4096;               // a longer line closes the connection (codec error)
    private const int MaxNameLength = 32;
    private const int MaxQueued = 1024 * 1024;      // a client that falls this far behind is dropped

    private readonly List<ChatClient> _clients = new();
    private readonly LoopStreamOptions _streamOptions = new() { Codec = new LineCodec(MaxLine) };

    public HostedLoop Hosted => hosted;

    public void Start()
    {
        directory.SetRoom(hosted.Index, hosted.LoopCount, this);
        var activated = hosted.ActivatedSockets.Where(s => s.IsListening).ToList();
        // Socket activation: every loop accepts on (a duplicate of) each passed socket. Otherwise every loop binds the
        // port with SO_REUSEPORT (HostedLoop.Listen does that when there are several loops).
        foreach (var socket in activated) hosted.ListenActivated(socket, OnAccept);
        if (activated.Count == 0) hosted.Listen(new IPEndPoint(IPAddress.Loopback, settings.Port), OnAccept);
        if (hosted.Index == 0)
            logger.LogInformation("chat: {Model} ({Backend}) on {Loops} loops, {Where}", hosted.Loop.Model, hosted.Loop.BackendName, hosted.LoopCount,
                activated.Count > 0 ? "socket-activated " + string.Join(", ", activated) : $"127.0.0.1:{settings.Port}");
    }

    /// <summary>The host stops (the listeners are already closed): say goodbye, and close each connection once its
    /// output has drained. The host waits for that, up to its drain deadline.</summary>
    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        foreach (var c in _clients.ToArray())
        {
            Send(c, "* server shutting down\r\n"u8);
            if (!c.Stream.IsClosed) c.Stream.CloseAfterDrain();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>A message from a client of another loop (posted by it): deliver it to the named clients here.</summary>
    public void DeliverLocal(byte[] message, ChatClient? except)
    {
        foreach (var c in _clients.ToArray())
            if (c != except && c.Name is not null) Send(c, message);
    }

    private void OnAccept(Listener listener, SocketConnection connection)
    {
        var client = new ChatClient(connection.ToStream(hosted.Loop, _streamOptions));
        client.Stream.OnMessage = (_, line) => OnLine(client, line);
        client.Stream.OnClose = (_, reason) => OnClosed(client, reason);
        _clients.Add(client);
        hosted.TrackConnection(client.Stream);       // the host's drain waits for it
        client.Stream.Start();
        Send(client, "Welcome to LinuxEvent chat! What is your name?\r\n"u8);
    }

    private void OnLine(ChatClient c, ReadOnlySpan<byte> line)
    {
        if (c.Name is null)
        {
            PickName(c, line.Trim(" \t"u8));
            return;
        }
        if (line.IsEmpty) return;
        // "name : line\r\n", built once for every other member, on this loop and the others.
        var name = Encoding.UTF8.GetBytes(c.Name);
        var message = new byte[name.Length + 3 + line.Length + 2];
        name.CopyTo(message, 0);
        " : "u8.CopyTo(message.AsSpan(name.Length));
        line.CopyTo(message.AsSpan(name.Length + 3));
        "\r\n"u8.CopyTo(message.AsSpan(message.Length - 2));
        Broadcast(c, message);
    }

    private void PickName(ChatClient c, ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxNameLength || name.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || name.Contains((byte)0x7f))
        {
            Send(c, "Names are 1-32 visible characters. What is your name?\r\n"u8);
            return;
        }
        string text = Encoding.UTF8.GetString(name);
        if (directory.TryJoin(text) is not { } others)
        {
            Send(c, "That name is taken. What is your name?\r\n"u8);
            return;
        }
        c.Name = text;
        Send(c, Encoding.UTF8.GetBytes(others.Count == 0
            ? $"Hello {text}! You are the first one here.\r\n"
            : $"Hello {text}! Also here: {string.Join(", ", others)}.\r\n"));
        Broadcast(c, Encoding.UTF8.GetBytes($"* {text} joined\r\n"));
    }

    private void OnClosed(ChatClient c, CloseReason reason)
    {
        _clients.Remove(c);
        if (reason == CloseReason.CodecError) logger.LogInformation("chat: closed a client that sent a line over {Max} bytes", MaxLine);
        if (c.Name is null) return;
        directory.Leave(c.Name);
        // The loop may be stopping (LoopDisposed): then the others are told only if they are still there.
        Broadcast(c, Encoding.UTF8.GetBytes($"* {c.Name} left\r\n"));
    }

    private void Broadcast(ChatClient from, byte[] message)
    {
        DeliverLocal(message, from);
        directory.RelayToOtherLoops(this, message, from);
    }

    /// <summary>Queues bytes for a client; one that has fallen more than <see cref="MaxQueued"/> behind is dropped, so a
    /// stuck reader cannot make the server buffer without bound.</summary>
    private void Send(ChatClient c, ReadOnlySpan<byte> bytes)
    {
        if (c.Stream.IsClosed) return;
        if (c.Stream.QueuedBytes + bytes.Length > MaxQueued)
        {
            logger.LogWarning("chat: dropping a slow client ({Name})", c.Name ?? "unnamed");
            c.Stream.Close();
            return;
        }
        try { c.Stream.Write(bytes); }
        catch (InvalidOperationException) { }      // already closing after drain (shutdown): nothing more goes out
    }
}
