#!/usr/bin/env dotnet
// mini-redis: a single-threaded RESP2 key/value server on LinuxEvent, one async task per connection; the same code
// runs on the reactor (epoll) and the proactor (io_uring) model.
//
//   dotnet run -c Release examples/mini-redis.cs -- --model reactor|proactor --port 6380
//   redis-cli -p 6380 set greeting hello ex 60;  redis-benchmark -p 6380 -t ping,set,get,incr -P 16 -q
//
// What it shows: Loop.Register (LoopFd) with AcceptAsync/ReceiveAsync/SendAsync on either model, Spawn per connection, a loop timer for active
// expiry, loop.NowNanoseconds for lazy expiry, graceful SIGINT/SIGTERM shutdown through loop.Signal (exit code 0).
//
// Commands: PING [msg], ECHO msg, SET key value [EX s|PX ms|KEEPTTL] [NX|XX], GET, DEL key.., EXISTS key..,
// INCR, EXPIRE key s, TTL, DBSIZE, FLUSHALL [ASYNC|SYNC], SELECT 0, QUIT, COMMAND [COUNT|INFO|DOCS],
// CONFIG GET (the two settings redis-benchmark asks for). Requests are RESP arrays of bulk strings or inline
// commands (`PING\r\n`). Pipelining: every complete command in the receive buffer is executed and the replies go
// out in one send. A protocol error gets a RESP error reply and that connection is closed; the server keeps serving.
//
// Hot path without allocations: commands are parsed in place on the receive buffer (byte spans, no strings), keys
// are looked up with a span-keyed alternate lookup of the Dictionary, and SET/INCR overwrite a value's bytes in
// place when the length is unchanged.
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:include Shared/ExampleServer.cs
#:property PublishAot=false
#:property TieredPGO=true
#:property ServerGarbageCollector=false
#:property ConcurrentGarbageCollection=false

using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return ExampleServer.Run("mini-redis", args, defaultPort: 6380, static (loop, endpoint) => new RedisServer(loop).RunAsync(endpoint));

/// <summary>One client connection: its socket and its receive/reply buffers (pinned, so io_uring needs no pin handle).</summary>
internal sealed class RedisClient(LoopFd io)
{
    public const int InitialBufferSize = 16 * 1024;
    public readonly LoopFd Io = io;      // registered once for the connection's life; owns the socket
    public int Fd => Io.Fd;
    public byte[] In = GC.AllocateUninitializedArray<byte>(InitialBufferSize, pinned: true);
    public byte[] Out = GC.AllocateUninitializedArray<byte>(InitialBufferSize, pinned: true);
    public int InStart, InEnd;      // unparsed bytes: In[InStart..InEnd)
    public int OutLength;           // replies waiting to be sent: Out[..OutLength)
    public bool CloseAfterReply;    // QUIT or a protocol error
    public Task Completion = Task.CompletedTask;

    /// <summary>Makes room for at least <paramref name="bytes"/> more reply bytes.</summary>
    public Span<byte> ReserveOut(int bytes)
    {
        if (Out.Length - OutLength < bytes)
        {
            var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(Out.Length * 2, OutLength + bytes), pinned: true);
            Out.AsSpan(0, OutLength).CopyTo(bigger);
            Out = bigger;
        }
        return Out.AsSpan(OutLength);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(ReserveOut(bytes.Length));
        OutLength += bytes.Length;
    }
}

/// <summary>A stored value. Values are byte strings; INCR reads and writes them as decimal integers.</summary>
internal sealed class Entry(byte[] key, byte[] value)
{
    public readonly byte[] Key = key;
    public byte[] Value = value;
    public long ExpiresAt;          // loop.NowNanoseconds deadline; 0 = persistent
    public int VolatileIndex = -1;  // position in RedisServer._volatile while ExpiresAt != 0
}

/// <summary>Byte-string keys: hashing and equality on the bytes, and lookups by span without allocating a key.</summary>
internal sealed class ByteKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteKeyComparer Instance = new();
    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] key) => Hash(key);
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    // HashCode is seeded per process, so clients cannot precompute colliding keys.
    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var h = new HashCode();
        h.AddBytes(bytes);
        return h.ToHashCode();
    }
}

internal enum ParseStatus { Complete, Incomplete, Error }

/// <summary>
/// The server: accept loop, per-connection tasks, the RESP parser and the command table. Everything runs on the loop
/// thread, so the keyspace needs no locks.
/// </summary>
internal sealed class RedisServer
{
    private const int MaxInlineLength = 64 * 1024;          // as redis' PROTO_INLINE_MAX_SIZE
    private const int MaxArgs = 1024 * 1024;                // as redis' multibulk limit
    private const int MaxBulkLength = 64 * 1024 * 1024;     // smaller than redis' 512 MB: this is an example
    private const int FlushThreshold = 256 * 1024;          // send mid-batch when this much reply is pending
    private static readonly TimeSpan ActiveExpiryPeriod = TimeSpan.FromMilliseconds(100);

    private readonly Loop _loop;
    private readonly Dictionary<byte[], Entry> _data = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<Entry> _volatile = new();         // entries with a TTL, for the active expiry sweep
    private int _sweepCursor;
    private readonly HashSet<RedisClient> _clients = new();
    private readonly CancellationTokenSource _stopping = new();

    // Parsed arguments of the current command: offsets into the client's receive buffer (no copies).
    private (int Start, int Length)[] _args = new (int, int)[64];
    private int _argc;
    private byte[] _in = [];

    public RedisServer(Loop loop)
    {
        _loop = loop;
        _lookup = _data.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public async Task RunAsync(IPEndPoint endpoint)
    {
        // Registered for its whole life (Loop.Register): no per-accept re-arming on the reactor; closed by Dispose.
        var listener = _loop.Register(Posix.CreateTcpListener(endpoint, backlog: 1024), ownsFd: true);
        // SIGINT/SIGTERM end the accept loop; the subscriptions last as long as the loop (its Dispose cancels them).
        _loop.Signal(2, (_, _) => _stopping.Cancel());
        _loop.Signal(15, (_, _) => _stopping.Cancel());
        var sweeper = _loop.Every(ActiveExpiryPeriod, this, static (_, s) => s.ExpireSweep());
        Console.Error.WriteLine($"mini-redis: {_loop.Model.ToString().ToLowerInvariant()} ({_loop.BackendName}) listening on {endpoint}");
        try
        {
            while (true)
            {
                int fd;
                try
                {
                    fd = await listener.AcceptAsync(_stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception ex) when (ex is ILinuxEventError)
                {
                    // Out of fds, or a connection that died in the backlog: report, pause briefly, keep serving.
                    Console.Error.WriteLine($"mini-redis: accept: {ex.Message}");
                    try { await _loop.DelayAsync(TimeSpan.FromMilliseconds(10), _stopping.Token); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                Posix.SetTcpNoDelay(fd);
                var client = new RedisClient(_loop.Register(fd, ownsFd: true));
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
        Console.Error.WriteLine($"mini-redis: stopped ({_data.Count} keys in memory)");
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

    private async Task ServeAsync(RedisClient c)
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
                if (c.Out.Length > 4 * RedisClient.InitialBufferSize) c.Out = GC.AllocateUninitializedArray<byte>(RedisClient.InitialBufferSize, pinned: true);
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
    private static void MakeRoom(RedisClient c)
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
    private bool ExecuteBuffered(RedisClient c)
    {
        _in = c.In;
        try
        {
            while (c.InStart < c.InEnd && !c.CloseAfterReply)
            {
                var status = Parse(c, out int consumed, out string? error);
                if (status == ParseStatus.Incomplete) break;
                if (status == ParseStatus.Error)
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

    // ------------------------------------------------------------------ RESP parsing (in place)

    private ReadOnlySpan<byte> Arg(int i) => _in.AsSpan(_args[i].Start, _args[i].Length);

    private void AddArg(int start, int length)
    {
        if (_argc == _args.Length) Array.Resize(ref _args, _args.Length * 2);
        _args[_argc++] = (start, length);
    }

    /// <summary>Parses one command at c.InStart into _args. Incomplete: wait for more bytes (nothing consumed).</summary>
    private ParseStatus Parse(RedisClient c, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        _argc = 0;
        var buf = c.In.AsSpan(c.InStart, c.InEnd - c.InStart);
        return buf[0] == (byte)'*' ? ParseMultiBulk(c.InStart, buf, out consumed, out error) : ParseInline(c.InStart, buf, out consumed, out error);
    }

    private ParseStatus ParseInline(int origin, ReadOnlySpan<byte> buf, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        int nl = buf.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (buf.Length > MaxInlineLength) { error = "ERR Protocol error: too big inline request"; return ParseStatus.Error; }
            return ParseStatus.Incomplete;
        }
        if (nl > MaxInlineLength) { error = "ERR Protocol error: too big inline request"; return ParseStatus.Error; }
        int end = nl > 0 && buf[nl - 1] == (byte)'\r' ? nl - 1 : nl;
        int i = 0;
        while (i < end)
        {
            while (i < end && buf[i] is (byte)' ' or (byte)'\t') i++;
            int start = i;
            while (i < end && buf[i] is not ((byte)' ' or (byte)'\t')) i++;
            if (i > start) AddArg(origin + start, i - start);
        }
        consumed = nl + 1;
        return ParseStatus.Complete;
    }

    private ParseStatus ParseMultiBulk(int origin, ReadOnlySpan<byte> buf, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        int pos = 1;
        var st = ReadNumberLine(buf, ref pos, out long count);
        if (st == ParseStatus.Incomplete) return st;
        if (st == ParseStatus.Error || count > MaxArgs) { error = "ERR Protocol error: invalid multibulk length"; return ParseStatus.Error; }
        for (long k = 0; k < count; k++)
        {
            if (pos >= buf.Length) return ParseStatus.Incomplete;
            if (buf[pos] != (byte)'$')
            {
                error = $"ERR Protocol error: expected '$', got '{Printable(buf[pos])}'";
                return ParseStatus.Error;
            }
            pos++;
            st = ReadNumberLine(buf, ref pos, out long length);
            if (st == ParseStatus.Incomplete) return st;
            if (st == ParseStatus.Error || length < 0 || length > MaxBulkLength) { error = "ERR Protocol error: invalid bulk length"; return ParseStatus.Error; }
            if (buf.Length - pos < length + 2) return ParseStatus.Incomplete;
            if (buf[pos + (int)length] != (byte)'\r' || buf[pos + (int)length + 1] != (byte)'\n')
            {
                error = "ERR Protocol error: bulk string not terminated by CRLF";
                return ParseStatus.Error;
            }
            AddArg(origin + pos, (int)length);
            pos += (int)length + 2;
        }
        consumed = pos;      // *0 and *-1 parse as an empty command, which is skipped (as redis does)
        return ParseStatus.Complete;
    }

    /// <summary>Reads "[-]digits\r\n" at pos (after the type byte).</summary>
    private static ParseStatus ReadNumberLine(ReadOnlySpan<byte> buf, ref int pos, out long value)
    {
        value = 0;
        var rest = buf[pos..];
        int cr = rest[..Math.Min(rest.Length, 24)].IndexOf((byte)'\r');     // a count has at most 20 characters
        if (cr < 0) return rest.Length >= 24 ? ParseStatus.Error : ParseStatus.Incomplete;
        if (cr + 1 >= rest.Length) return ParseStatus.Incomplete;
        if (rest[cr + 1] != (byte)'\n' || !TryParseInteger(rest[..cr], out value)) return ParseStatus.Error;
        pos += cr + 2;
        return ParseStatus.Complete;
    }

    private static char Printable(byte b) => b is >= 0x20 and < 0x7f ? (char)b : '?';

    /// <summary>Strict decimal: optional '-', digits, no leading zeros, no sign on zero, fits in a long (as redis' string2ll).</summary>
    private static bool TryParseInteger(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 20) return false;
        bool negative = s[0] == (byte)'-';
        var digits = negative ? s[1..] : s;
        if (digits.IsEmpty || (digits[0] == (byte)'0' && (digits.Length > 1 || negative))) return false;
        ulong v = 0;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            if (v > (ulong.MaxValue - d) / 10) return false;
            v = v * 10 + d;
        }
        if (negative)
        {
            if (v > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - v);
        }
        else
        {
            if (v > long.MaxValue) return false;
            value = (long)v;
        }
        return true;
    }

    // ------------------------------------------------------------------ replies

    private static void WriteError(RedisClient c, string message)
    {
        var span = c.ReserveOut(Encoding.UTF8.GetMaxByteCount(message.Length) + 4);
        span[0] = (byte)'-';
        int n = 1 + Encoding.UTF8.GetBytes(message, span[1..]);
        span[n] = (byte)'\r';
        span[n + 1] = (byte)'\n';
        c.OutLength += n + 2;
    }

    private static void WriteInteger(RedisClient c, long value)
    {
        var span = c.ReserveOut(24);
        span[0] = (byte)':';
        value.TryFormat(span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }

    private static void WriteArrayHeader(RedisClient c, int count) => WritePrefixed(c, (byte)'*', count);

    private static void WritePrefixed(RedisClient c, byte type, long value)
    {
        var span = c.ReserveOut(24);
        span[0] = type;
        value.TryFormat(span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }

    private static void WriteBulk(RedisClient c, ReadOnlySpan<byte> value)
    {
        var span = c.ReserveOut(value.Length + 24);
        span[0] = (byte)'$';
        value.Length.TryFormat(span[1..], out int n);
        n++;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        value.CopyTo(span[n..]);
        n += value.Length;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        c.OutLength += n;
    }

    private static void WriteBulk(RedisClient c, string value) => WriteBulk(c, Encoding.UTF8.GetBytes(value));

    private static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;
    private static ReadOnlySpan<byte> Null => "$-1\r\n"u8;

    // ------------------------------------------------------------------ keyspace

    /// <summary>The live entry for <paramref name="key"/>, deleting it first if its TTL has passed (lazy expiry).</summary>
    private Entry? Find(ReadOnlySpan<byte> key)
    {
        if (!_lookup.TryGetValue(key, out var e)) return null;
        if (e.ExpiresAt != 0 && e.ExpiresAt <= _loop.NowNanoseconds)
        {
            Delete(e);
            return null;
        }
        return e;
    }

    private void Delete(Entry e)
    {
        _data.Remove(e.Key);
        SetExpiry(e, 0);
    }

    private void SetExpiry(Entry e, long expiresAt)
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
    private Entry Store(ReadOnlySpan<byte> key, Entry? existing, ReadOnlySpan<byte> value)
    {
        if (existing is null)
        {
            var e = new Entry(key.ToArray(), value.ToArray());
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

    // ------------------------------------------------------------------ commands

    private static bool Is(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> upper) => System.Text.Ascii.EqualsIgnoreCase(arg, upper);

    private void Execute(RedisClient c)
    {
        var name = Arg(0);
        switch (name.Length)
        {
            case 3:
                if (Is(name, "GET"u8)) { Get(c); return; }
                if (Is(name, "SET"u8)) { Set(c); return; }
                if (Is(name, "DEL"u8)) { Del(c); return; }
                if (Is(name, "TTL"u8)) { Ttl(c); return; }
                break;
            case 4:
                if (Is(name, "PING"u8)) { Ping(c); return; }
                if (Is(name, "INCR"u8)) { Incr(c); return; }
                if (Is(name, "ECHO"u8)) { Echo(c); return; }
                if (Is(name, "QUIT"u8)) { c.Write(Ok); c.CloseAfterReply = true; return; }
                break;
            case 6:
                if (Is(name, "EXISTS"u8)) { Exists(c); return; }
                if (Is(name, "EXPIRE"u8)) { Expire(c); return; }
                if (Is(name, "DBSIZE"u8)) { if (Arity(c, 1, exact: true)) WriteInteger(c, _data.Count); return; }
                if (Is(name, "SELECT"u8)) { Select(c); return; }
                if (Is(name, "CONFIG"u8)) { Config(c); return; }
                break;
            case 7:
                if (Is(name, "COMMAND"u8)) { Command(c); return; }
                break;
            case 8:
                if (Is(name, "FLUSHALL"u8)) { FlushAll(c); return; }
                break;
        }
        var sb = new StringBuilder($"ERR unknown command '{Sanitize(name)}', with args beginning with: ");
        for (int i = 1; i < _argc; i++) sb.Append('\'').Append(Sanitize(Arg(i))).Append("' ");
        WriteError(c, sb.ToString());
    }

    /// <summary>Argument text for an error message: at most 128 bytes, control characters replaced (no CRLF injection).</summary>
    private static string Sanitize(ReadOnlySpan<byte> arg)
    {
        var chars = new char[Math.Min(arg.Length, 128)];
        for (int i = 0; i < chars.Length; i++) chars[i] = Printable(arg[i]);
        return new string(chars);
    }

    /// <summary>Checks the argument count (name included); replies with redis' arity error when wrong.</summary>
    private bool Arity(RedisClient c, int n, bool exact)
    {
        if (exact ? _argc == n : _argc >= n) return true;
        WriteError(c, $"ERR wrong number of arguments for '{Encoding.ASCII.GetString(Arg(0)).ToLowerInvariant()}' command");
        return false;
    }

    private void Ping(RedisClient c)
    {
        if (_argc == 1) c.Write("+PONG\r\n"u8);
        else if (_argc == 2) WriteBulk(c, Arg(1));
        else Arity(c, 2, exact: true);
    }

    private void Echo(RedisClient c)
    {
        if (Arity(c, 2, exact: true)) WriteBulk(c, Arg(1));
    }

    private void Get(RedisClient c)
    {
        if (!Arity(c, 2, exact: true)) return;
        var e = Find(Arg(1));
        if (e is null) c.Write(Null);
        else WriteBulk(c, e.Value);
    }

    private void Set(RedisClient c)
    {
        if (!Arity(c, 3, exact: false)) return;
        long ttlNs = 0;
        bool nx = false, xx = false, keepTtl = false, hasTtl = false;
        for (int i = 3; i < _argc; i++)
        {
            var opt = Arg(i);
            if (Is(opt, "NX"u8) && !xx) nx = true;
            else if (Is(opt, "XX"u8) && !nx) xx = true;
            else if (Is(opt, "KEEPTTL"u8) && !hasTtl) keepTtl = true;
            else if ((Is(opt, "EX"u8) || Is(opt, "PX"u8)) && !hasTtl && !keepTtl && i + 1 < _argc)
            {
                long unitNs = Is(opt, "EX"u8) ? 1_000_000_000L : 1_000_000L;
                if (!TryParseInteger(Arg(++i), out long amount)) { WriteError(c, "ERR value is not an integer or out of range"); return; }
                if (amount <= 0 || amount > long.MaxValue / unitNs / 2) { WriteError(c, "ERR invalid expire time in 'set' command"); return; }
                ttlNs = amount * unitNs;
                hasTtl = true;
            }
            else { WriteError(c, "ERR syntax error"); return; }
        }
        var key = Arg(1);
        var existing = Find(key);
        if ((nx && existing is not null) || (xx && existing is null)) { c.Write(Null); return; }
        var e = Store(key, existing, Arg(2));
        if (hasTtl) SetExpiry(e, _loop.NowNanoseconds + ttlNs);
        else if (!keepTtl) SetExpiry(e, 0);
        c.Write(Ok);
    }

    private void Del(RedisClient c)
    {
        if (!Arity(c, 2, exact: false)) return;
        int deleted = 0;
        for (int i = 1; i < _argc; i++)
            if (Find(Arg(i)) is { } e) { Delete(e); deleted++; }
        WriteInteger(c, deleted);
    }

    private void Exists(RedisClient c)
    {
        if (!Arity(c, 2, exact: false)) return;
        int found = 0;
        for (int i = 1; i < _argc; i++) if (Find(Arg(i)) is not null) found++;
        WriteInteger(c, found);
    }

    private void Incr(RedisClient c)
    {
        if (!Arity(c, 2, exact: true)) return;
        var key = Arg(1);
        var e = Find(key);
        long value = 0;
        if (e is not null && !TryParseInteger(e.Value, out value)) { WriteError(c, "ERR value is not an integer or out of range"); return; }
        if (value == long.MaxValue) { WriteError(c, "ERR increment or decrement would overflow"); return; }
        value++;
        Span<byte> digits = stackalloc byte[20];
        value.TryFormat(digits, out int n);
        Store(key, e, digits[..n]);       // keeps the TTL, as redis does
        WriteInteger(c, value);
    }

    private void Expire(RedisClient c)
    {
        if (!Arity(c, 3, exact: true)) return;
        if (!TryParseInteger(Arg(2), out long seconds)) { WriteError(c, "ERR value is not an integer or out of range"); return; }
        if (seconds > long.MaxValue / 1_000_000_000L / 2) { WriteError(c, "ERR invalid expire time in 'expire' command"); return; }
        var e = Find(Arg(1));
        if (e is null) { WriteInteger(c, 0); return; }
        if (seconds <= 0) Delete(e);              // a deadline in the past deletes the key at once
        else SetExpiry(e, _loop.NowNanoseconds + seconds * 1_000_000_000L);
        WriteInteger(c, 1);
    }

    private void Ttl(RedisClient c)
    {
        if (!Arity(c, 2, exact: true)) return;
        var e = Find(Arg(1));
        if (e is null) WriteInteger(c, -2);
        else if (e.ExpiresAt == 0) WriteInteger(c, -1);
        else WriteInteger(c, (e.ExpiresAt - _loop.NowNanoseconds + 500_000_000L) / 1_000_000_000L);
    }

    private void FlushAll(RedisClient c)
    {
        if (_argc > 2 || (_argc == 2 && !Is(Arg(1), "ASYNC"u8) && !Is(Arg(1), "SYNC"u8))) { WriteError(c, "ERR syntax error"); return; }
        _data.Clear();
        foreach (var e in _volatile) e.VolatileIndex = -1;
        _volatile.Clear();
        c.Write(Ok);
    }

    private void Select(RedisClient c)
    {
        if (!Arity(c, 2, exact: true)) return;
        if (!TryParseInteger(Arg(1), out long db)) WriteError(c, "ERR value is not an integer or out of range");
        else if (db != 0) WriteError(c, "ERR DB index is out of range");
        else c.Write(Ok);
    }

    private void Config(RedisClient c)
    {
        // redis-benchmark reads "save" and "appendonly" at startup; anything else reads as an unknown parameter.
        if (_argc != 3 || !Is(Arg(1), "GET"u8)) { WriteError(c, "ERR only CONFIG GET <parameter> is supported"); return; }
        var p = Arg(2);
        if (Is(p, "SAVE"u8)) { WriteArrayHeader(c, 2); WriteBulk(c, "save"u8); WriteBulk(c, ""u8); }
        else if (Is(p, "APPENDONLY"u8)) { WriteArrayHeader(c, 2); WriteBulk(c, "appendonly"u8); WriteBulk(c, "no"u8); }
        else WriteArrayHeader(c, 0);
    }

    /// <summary>The command table COMMAND reports: name, arity (negative = at least), flags, first key, last key, step.</summary>
    private static readonly (string Name, int Arity, string[] Flags, int First, int Last, int Step)[] s_commands =
    [
        ("ping", -1, ["fast"], 0, 0, 0),
        ("echo", 2, ["fast"], 0, 0, 0),
        ("set", -3, ["write", "denyoom"], 1, 1, 1),
        ("get", 2, ["readonly", "fast"], 1, 1, 1),
        ("del", -2, ["write"], 1, -1, 1),
        ("exists", -2, ["readonly", "fast"], 1, -1, 1),
        ("incr", 2, ["write", "denyoom", "fast"], 1, 1, 1),
        ("expire", 3, ["write", "fast"], 1, 1, 1),
        ("ttl", 2, ["readonly", "fast"], 1, 1, 1),
        ("dbsize", 1, ["readonly", "fast"], 0, 0, 0),
        ("flushall", -1, ["write"], 0, 0, 0),
        ("select", 2, ["loading", "stale", "fast"], 0, 0, 0),
        ("quit", -1, ["fast"], 0, 0, 0),
        ("config", -2, ["admin", "noscript"], 0, 0, 0),
        ("command", -1, ["loading", "stale"], 0, 0, 0),
    ];

    private void Command(RedisClient c)
    {
        if (_argc == 1) { WriteArrayHeader(c, s_commands.Length); foreach (var cmd in s_commands) WriteCommandInfo(c, cmd); return; }
        var sub = Arg(1);
        if (Is(sub, "COUNT"u8) && _argc == 2) WriteInteger(c, s_commands.Length);
        else if (Is(sub, "DOCS"u8)) WriteArrayHeader(c, 0);     // no docs: clients fall back to their built-in help
        else if (Is(sub, "INFO"u8))
        {
            WriteArrayHeader(c, _argc - 2);
            for (int i = 2; i < _argc; i++)
            {
                string wanted = Encoding.ASCII.GetString(Arg(i)).ToLowerInvariant();
                int k = Array.FindIndex(s_commands, x => x.Name == wanted);
                if (k < 0) c.Write("*-1\r\n"u8);
                else WriteCommandInfo(c, s_commands[k]);
            }
        }
        else WriteError(c, $"ERR unknown subcommand '{Sanitize(sub)}'. Try COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS.");
    }

    private static void WriteCommandInfo(RedisClient c, (string Name, int Arity, string[] Flags, int First, int Last, int Step) cmd)
    {
        WriteArrayHeader(c, 6);
        WriteBulk(c, cmd.Name);
        WriteInteger(c, cmd.Arity);
        WriteArrayHeader(c, cmd.Flags.Length);
        foreach (var f in cmd.Flags) WriteSimpleString(c, f);
        WriteInteger(c, cmd.First);
        WriteInteger(c, cmd.Last);
        WriteInteger(c, cmd.Step);
    }

    private static void WriteSimpleString(RedisClient c, string text)
    {
        var span = c.ReserveOut(text.Length + 3);
        span[0] = (byte)'+';
        int n = Encoding.ASCII.GetBytes(text, span[1..]);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }
}
