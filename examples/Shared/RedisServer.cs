// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
//
// One LoopStream per connection, input through LoopStream.OnInput: every complete command of a batch is executed where
// it was received (copied once into the server's parse buffer and parsed in place there), a partial one stays in the
// stream, and the replies go out with one Write per batch. So an idle connection holds no buffer: receives go through
// the loop's shared buffer (reactor) or shared provided-buffer ring (proactor), and replies are assembled in one buffer
// shared by every connection.
using LinuxEvent;
using LinuxEvent.Net;

/// <summary>
/// The server: accept loop, per-connection streams, the RESP parser and the command table. Everything runs on the loop
/// thread, so the keyspace needs no locks.
/// </summary>
internal sealed partial class RedisServer
{
    private const int MaxInlineLength = 64 * 1024;          // as redis' PROTO_INLINE_MAX_SIZE
    private const int MaxArgs = 1024 * 1024;                // as redis' multibulk limit
    private const int MaxBulkLength = 64 * 1024 * 1024;     // smaller than redis' 512 MB: this is an example
    private const int FlushThreshold = 256 * 1024;          // send mid-batch when this much reply is pending
    private static readonly TimeSpan ActiveExpiryPeriod = TimeSpan.FromMilliseconds(100);

    // One options object for every client (a stream keeps a reference). Past the high watermark a client stops being
    // read until its queue drains: a pipelining client cannot make the server buffer replies without bound.
    private static readonly LoopStreamOptions s_streamOptions = new() { FdKind = StreamFdKind.Socket };

    private readonly Loop _loop;
    private readonly Action<string> _log;
    private readonly Dictionary<byte[], RedisEntry> _data = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], RedisEntry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<RedisEntry> _volatile = new();         // entries with a TTL, for the active expiry sweep
    private int _sweepCursor;
    private readonly List<RedisConnection> _clients = new();      // every connection; swap-removed on close
    private readonly RedisReplyBuffer _replies = new(FlushThreshold + 64 * 1024);
    private TaskCompletionSource? _allClosed;
    // The stream callbacks, created once: every client shares them (the connection rides in LoopStream.Data).
    private readonly StreamInputHandler _onInput;
    private readonly Action<LoopStream> _onDrain;
    private readonly Action<LoopStream, CloseReason> _onClose;

    // The batch being executed, copied out of the stream once, and the parsed arguments of the current command:
    // offsets into _in (no copies).
    private byte[] _in = new byte[16 * 1024];
    private int _inStart, _inEnd;
    private int _need;              // set by the parser on an incomplete bulk string: bytes the command needs in all
    private (int Start, int Length)[] _args = new (int, int)[64];
    private int _argc;

    /// <param name="loop">The loop the server runs on.</param>
    /// <param name="log">Where diagnostics go (the example: stderr; the simulation: its trace).</param>
    public RedisServer(Loop loop, Action<string> log)
    {
        _loop = loop;
        _log = log;
        _lookup = _data.GetAlternateLookup<ReadOnlySpan<byte>>();
        _onInput = (s, input) => HandleInput((RedisConnection)s.Data!, input);
        _onDrain = static s => s.ResumeRead();
        _onClose = (s, _) => OnClosed((RedisConnection)s.Data!);
    }

    /// <summary>Connections currently served.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>
    /// Serves connections accepted on <paramref name="listeningSocket"/> (which the server owns and closes) until
    /// <paramref name="stopping"/> is cancelled, then closes the connections once their replies are written and returns.
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
                Accept(fd);
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

    private void Accept(int fd)
    {
        try { Posix.SetTcpNoDelay(fd); }
        catch (Exception e) when (e is ILinuxEventError) { /* not TCP (a simulated or Unix socket), or already reset: serve it anyway */ }
        var stream = new LoopStream(_loop, fd, s_streamOptions);
        var client = new RedisConnection(stream, _replies);
        stream.Data = client;
        stream.OnInput = _onInput;
        stream.OnDrain = _onDrain;
        stream.OnClose = _onClose;
        client.Index = _clients.Count;
        _clients.Add(client);
        stream.Start();
    }

    private void OnClosed(RedisConnection c)
    {
        // Swap-remove: O(1) per departure.
        int i = c.Index;
        var last = _clients[^1];
        _clients[i] = last;
        last.Index = i;
        _clients.RemoveAt(_clients.Count - 1);
        c.Index = -1;
        if (_clients.Count == 0) _allClosed?.TrySetResult();
    }

    /// <summary>
    /// Graceful stop: shuts the receive side of every connection down. Commands the kernel has already received are
    /// still read and answered; then the stream sees end-of-stream and closes once its replies are written
    /// (PeerEndBehavior.CloseAfterDrain). Waits for that (bounded). (Shutting both sides down would fail the replies
    /// still being sent.)
    /// </summary>
    private async Task ShutdownClientsAsync()
    {
        if (_clients.Count == 0) return;
        _allClosed = new TaskCompletionSource();
        foreach (var c in _clients.ToArray())
        {
            try { Posix.Shutdown(c.Stream.Fd, System.Net.Sockets.SocketShutdown.Receive); }
            catch (Exception e) when (e is ILinuxEventError) { c.Stream.CloseAfterDrain(); }
        }
        await Task.WhenAny(_allClosed.Task, _loop.DelayAsync(TimeSpan.FromSeconds(2)).AsTask());
    }

    /// <summary>
    /// Executes every complete command of <paramref name="input"/> (everything the stream has not consumed yet) and
    /// writes the replies with one Write per batch (per FlushThreshold bytes). Returns the bytes consumed: a partial
    /// command stays in the stream until the rest arrives.
    /// </summary>
    private int HandleInput(RedisConnection c, ReadOnlySpan<byte> input)
    {
        // A large bulk string arrives in many chunks: do not copy and re-parse its head for every one of them.
        if (input.Length < c.NeedBytes) return 0;
        c.NeedBytes = 0;
        if (_in.Length < input.Length) _in = new byte[Math.Max(_in.Length * 2, input.Length)];
        input.CopyTo(_in);
        _inStart = 0;
        _inEnd = input.Length;
        var stream = c.Stream;
        while (true)
        {
            bool more = ExecuteBuffered(c);
            // Replies of every complete command go out together: one write per batch (per FlushThreshold bytes).
            if (_replies.Length > 0)
            {
                bool open = stream.Write(_replies.Span);
                _replies.Length = 0;
                if (!open && stream.IsWriteBlocked && !stream.IsClosed && !c.CloseAfterReply)
                {
                    stream.PauseRead();                 // resumed by OnDrain; the rest stays in the stream
                    return _inStart;
                }
            }
            if (!more || stream.IsClosed) break;
        }
        if (c.CloseAfterReply || stream.IsClosed)
        {
            if (!stream.IsClosed) stream.CloseAfterDrain();
            return input.Length;
        }
        if (_need > 0) c.NeedBytes = _need;
        return _inStart;
    }

    /// <summary>
    /// Executes every complete command in the parse buffer, appending replies. Returns true when it stopped early
    /// because FlushThreshold bytes of replies are pending (the caller writes them and calls again).
    /// </summary>
    private bool ExecuteBuffered(RedisConnection c)
    {
        _need = 0;
        while (_inStart < _inEnd && !c.CloseAfterReply)
        {
            var status = Parse(out int consumed, out string? error);
            // Incomplete: _need (if set) counts from this command's first byte, which is where the stream's next
            // input will start, since everything before it is consumed.
            if (status == RedisParseStatus.Incomplete) break;
            _need = 0;
            if (status == RedisParseStatus.Error)
            {
                WriteError(c, error!);
                c.CloseAfterReply = true;
                break;
            }
            _inStart += consumed;
            if (_argc > 0) Execute(c);
            if (c.OutLength >= FlushThreshold) return true;
        }
        return false;
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
