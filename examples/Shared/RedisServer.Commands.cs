// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
using System.Text;

internal sealed partial class RedisServer
{
    // ------------------------------------------------------------------ commands

    private static bool Is(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> upper) => System.Text.Ascii.EqualsIgnoreCase(arg, upper);

    private void Execute(RedisConnection c)
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
    private bool Arity(RedisConnection c, int n, bool exact)
    {
        if (exact ? _argc == n : _argc >= n) return true;
        WriteError(c, $"ERR wrong number of arguments for '{Encoding.ASCII.GetString(Arg(0)).ToLowerInvariant()}' command");
        return false;
    }

    private void Ping(RedisConnection c)
    {
        if (_argc == 1) c.Write("+PONG\r\n"u8);
        else if (_argc == 2) WriteBulk(c, Arg(1));
        else Arity(c, 2, exact: true);
    }

    private void Echo(RedisConnection c)
    {
        if (Arity(c, 2, exact: true)) WriteBulk(c, Arg(1));
    }

    private void Get(RedisConnection c)
    {
        if (!Arity(c, 2, exact: true)) return;
        var e = Find(Arg(1));
        if (e is null) c.Write(Null);
        else WriteBulk(c, e.Value);
    }

    private void Set(RedisConnection c)
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

    private void Del(RedisConnection c)
    {
        if (!Arity(c, 2, exact: false)) return;
        int deleted = 0;
        for (int i = 1; i < _argc; i++)
            if (Find(Arg(i)) is { } e) { Delete(e); deleted++; }
        WriteInteger(c, deleted);
    }

    private void Exists(RedisConnection c)
    {
        if (!Arity(c, 2, exact: false)) return;
        int found = 0;
        for (int i = 1; i < _argc; i++) if (Find(Arg(i)) is not null) found++;
        WriteInteger(c, found);
    }

    private void Incr(RedisConnection c)
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

    private void Expire(RedisConnection c)
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

    private void Ttl(RedisConnection c)
    {
        if (!Arity(c, 2, exact: true)) return;
        var e = Find(Arg(1));
        if (e is null) WriteInteger(c, -2);
        else if (e.ExpiresAt == 0) WriteInteger(c, -1);
        else WriteInteger(c, (e.ExpiresAt - _loop.NowNanoseconds + 500_000_000L) / 1_000_000_000L);
    }

    private void FlushAll(RedisConnection c)
    {
        if (_argc > 2 || (_argc == 2 && !Is(Arg(1), "ASYNC"u8) && !Is(Arg(1), "SYNC"u8))) { WriteError(c, "ERR syntax error"); return; }
        _data.Clear();
        foreach (var e in _volatile) e.VolatileIndex = -1;
        _volatile.Clear();
        c.Write(Ok);
    }

    private void Select(RedisConnection c)
    {
        if (!Arity(c, 2, exact: true)) return;
        if (!TryParseInteger(Arg(1), out long db)) WriteError(c, "ERR value is not an integer or out of range");
        else if (db != 0) WriteError(c, "ERR DB index is out of range");
        else c.Write(Ok);
    }

    private void Config(RedisConnection c)
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

    private void Command(RedisConnection c)
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

    private static void WriteCommandInfo(RedisConnection c, (string Name, int Arity, string[] Flags, int First, int Last, int Step) cmd)
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

    private static void WriteSimpleString(RedisConnection c, string text)
    {
        var span = c.ReserveOut(text.Length + 3);
        span[0] = (byte)'+';
        int n = Encoding.ASCII.GetBytes(text, span[1..]);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }
}
