// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
using System.Runtime.InteropServices;
using LinuxEvent;

/// <summary>
/// The server: accept loop, per-connection tasks, the RESP parser and the command table. Everything runs on the loop
/// thread, so the keyspace needs no locks.
/// </summary>
internal sealed partial class RedisServer
{
    private const int MaxInlineLength = 64 * 1024;          // as redis' PROTO_INLINE_MAX_SIZE
    private const int MaxArgs = 1024 * 1024;                // as redis' multibulk limit
    private const int MaxBulkLength = 64 * 1024 * 1024;     // smaller than redis' 512 MB: this is an example
    private const int FlushThreshold = 256 * 1024;          // send mid-batch when this much reply is pending
    private static readonly TimeSpan ActiveExpiryPeriod = TimeSpan.FromMilliseconds(100);

    private readonly Loop _loop;
    private readonly Dictionary<byte[], RedisEntry> _data = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], RedisEntry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<RedisEntry> _volatile = new();         // entries with a TTL, for the active expiry sweep
    private int _sweepCursor;
    private readonly List<RedisConnection> _clients = new();      // in accept order: shutdown walks it
    private readonly Action<string> _log;

    // Parsed arguments of the current command: offsets into the client's receive buffer (no copies).
    private (int Start, int Length)[] _args = new (int, int)[64];
    private int _argc;
    private byte[] _in = [];

    /// <param name="loop">The loop the server runs on.</param>
    /// <param name="log">Where diagnostics go (the example: stderr).</param>
    public RedisServer(Loop loop, Action<string> log)
    {
        _loop = loop;
        _log = log;
        _lookup = _data.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Connections currently served.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>
    /// Serves connections accepted on <paramref name="listeningSocket"/> (which the server owns and closes) until
    /// <paramref name="stopping"/> is cancelled, then shuts the connections down and returns.
    /// </summary>
    public async Task RunAsync(int listeningSocket, CancellationToken stopping)
    {
        // Registered for its whole life (Loop.Register): no per-accept re-arming on the reactor; closed by Dispose.
        var listener = _loop.Register(listeningSocket, ownsFd: true);
        var sweeper = _loop.Every(ActiveExpiryPeriod, this, static (_, s) => s.ExpireSweep());
        try
        {
            while (true)
            {
                int fd;
                try
                {
                    fd = await listener.AcceptAsync(stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception ex) when (ex is ILinuxEventError)
                {
                    // Out of fds, or a connection that died in the backlog: report, pause briefly, keep serving.
                    _log($"mini-redis: accept: {ex.Message}");
                    try { await _loop.DelayAsync(TimeSpan.FromMilliseconds(10), stopping); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                try { Posix.SetTcpNoDelay(fd); }
                catch (Exception e) when (e is ILinuxEventError) { /* not TCP (a simulated or Unix socket), or already reset: serve it anyway */ }
                var client = new RedisConnection(_loop.Register(fd, ownsFd: true));
                _clients.Add(client);
                client.Completion = _loop.Spawn(() => ServeAsync(client));
            }
        }
        finally
        {
            sweeper.Cancel();
            // Closed before the connections are drained: from here on a client's connect is refused, so nothing new
            // arrives that the drain could miss.
            listener.Dispose();
        }
        await ShutdownClientsAsync();
        _log($"mini-redis: stopped ({_data.Count} keys in memory)");
    }

    /// <summary>
    /// Graceful stop: shuts the receive side of every connection down. Commands the kernel has already received are
    /// still read and answered; then the receive sees end-of-stream and the connection closes once its replies are
    /// sent. Waits for the tasks (bounded). (Shutting both sides down would fail the replies still being sent.)
    /// </summary>
    private async Task ShutdownClientsAsync()
    {
        if (_clients.Count == 0) return;
        var tasks = new List<Task>();
        foreach (var c in _clients)
        {
            try { Posix.Shutdown(c.Fd, System.Net.Sockets.SocketShutdown.Receive); } catch (Exception e) when (e is ILinuxEventError) { /* already disconnected */ }
            tasks.Add(c.Completion);
        }
        await Task.WhenAny(Task.WhenAll(tasks), _loop.DelayAsync(TimeSpan.FromSeconds(2)).AsTask());
    }

    private async Task ServeAsync(RedisConnection c)
    {
        try
        {
            while (true)
            {
                if (c.InEnd == c.In.Length) MakeRoom(c);
                int n = await c.Io.ReceiveAsync(MemoryMarshal.CreateFromPinnedArray(c.In, c.InEnd, c.In.Length - c.InEnd));
                if (n == 0) break;
                c.InEnd += n;
                while (true)
                {
                    bool more = ExecuteBuffered(c);
                    // Replies of every complete command go out together: one send per batch (per FlushThreshold bytes).
                    int sent = 0;
                    while (sent < c.OutLength)
                        sent += await c.Io.SendAsync(MemoryMarshal.CreateFromPinnedArray(c.Out, sent, c.OutLength - sent));
                    c.OutLength = 0;
                    if (!more) break;
                }
                if (c.CloseAfterReply) break;
                if (c.InStart == c.InEnd) c.InStart = c.InEnd = 0;
                if (c.Out.Length > 4 * RedisConnection.InitialBufferSize) c.Out = GC.AllocateUninitializedArray<byte>(RedisConnection.InitialBufferSize, pinned: true);
            }
        }
        catch (Exception e) when (e is ILinuxEventError)
        {
            // ECONNRESET, EPIPE...: the client went away; nothing to tell it.
        }
        finally
        {
            _clients.Remove(c);
            c.Io.Dispose();     // ends the registration and closes the socket
        }
    }

    /// <summary>Compacts the receive buffer, or grows it when one command is larger than the buffer.</summary>
    private static void MakeRoom(RedisConnection c)
    {
        int pending = c.InEnd - c.InStart;
        if (c.InStart > 0)
        {
            c.In.AsSpan(c.InStart, pending).CopyTo(c.In);
        }
        else
        {
            var bigger = GC.AllocateUninitializedArray<byte>(c.In.Length * 2, pinned: true);
            c.In.AsSpan(0, pending).CopyTo(bigger);
            c.In = bigger;
        }
        c.InStart = 0;
        c.InEnd = pending;
    }

    /// <summary>
    /// Executes every complete command in the receive buffer, appending replies. Returns true when it stopped early
    /// because FlushThreshold bytes of replies are pending (the caller sends them and calls again).
    /// </summary>
    private bool ExecuteBuffered(RedisConnection c)
    {
        _in = c.In;
        try
        {
            while (c.InStart < c.InEnd && !c.CloseAfterReply)
            {
                var status = Parse(c, out int consumed, out string? error);
                if (status == RedisParseStatus.Incomplete) break;
                if (status == RedisParseStatus.Error)
                {
                    WriteError(c, error!);
                    c.CloseAfterReply = true;
                    break;
                }
                c.InStart += consumed;
                if (_argc > 0) Execute(c);
                if (c.OutLength >= FlushThreshold) return true;
            }
            return false;
        }
        finally
        {
            _in = [];
        }
    }

    // ------------------------------------------------------------------ keyspace

    /// <summary>The live entry for <paramref name="key"/>, deleting it first if its TTL has passed (lazy expiry).</summary>
    private RedisEntry? Find(ReadOnlySpan<byte> key)
    {
        if (!_lookup.TryGetValue(key, out var e)) return null;
        if (e.ExpiresAt != 0 && e.ExpiresAt <= _loop.NowNanoseconds)
        {
            Delete(e);
            return null;
        }
        return e;
    }

    private void Delete(RedisEntry e)
    {
        _data.Remove(e.Key);
        SetExpiry(e, 0);
    }

    private void SetExpiry(RedisEntry e, long expiresAt)
    {
        e.ExpiresAt = expiresAt;
        if (expiresAt != 0 && e.VolatileIndex < 0)
        {
            e.VolatileIndex = _volatile.Count;
            _volatile.Add(e);
        }
        else if (expiresAt == 0 && e.VolatileIndex >= 0)
        {
            int last = _volatile.Count - 1;
            var moved = _volatile[last];
            _volatile[e.VolatileIndex] = moved;
            moved.VolatileIndex = e.VolatileIndex;
            _volatile.RemoveAt(last);
            e.VolatileIndex = -1;
        }
    }

    /// <summary>Stores <paramref name="value"/>, reusing the entry's array when the length is unchanged.</summary>
    private RedisEntry Store(ReadOnlySpan<byte> key, RedisEntry? existing, ReadOnlySpan<byte> value)
    {
        if (existing is null)
        {
            var e = new RedisEntry(key.ToArray(), value.ToArray());
            _data[e.Key] = e;
            return e;
        }
        if (existing.Value.Length == value.Length) value.CopyTo(existing.Value);
        else existing.Value = value.ToArray();
        return existing;
    }

    /// <summary>
    /// Active expiry, like redis' expire cycle: test a bounded sample of entries with a TTL each tick and keep going
    /// while more than a quarter of the sample had expired, so memory of expired keys is reclaimed without touching them.
    /// </summary>
    private void ExpireSweep()
    {
        long now = _loop.NowNanoseconds;
        for (int round = 0; round < 16 && _volatile.Count > 0; round++)
        {
            int sample = Math.Min(64, _volatile.Count), expired = 0;
            for (int k = 0; k < sample && _volatile.Count > 0; k++)
            {
                if (_sweepCursor >= _volatile.Count) _sweepCursor = 0;
                var e = _volatile[_sweepCursor];
                if (e.ExpiresAt <= now) { Delete(e); expired++; }     // the last entry moved into this slot: test it next
                else _sweepCursor++;
            }
            if (expired * 4 <= sample) break;
        }
    }
}
