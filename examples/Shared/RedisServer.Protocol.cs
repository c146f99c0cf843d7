// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
using System.Text;

internal sealed partial class RedisServer
{
    // ------------------------------------------------------------------ RESP parsing (in place)

    private ReadOnlySpan<byte> Arg(int i) => _in.AsSpan(_args[i].Start, _args[i].Length);

    private void AddArg(int start, int length)
    {
        if (_argc == _args.Length) Array.Resize(ref _args, _args.Length * 2);
        _args[_argc++] = (start, length);
    }

    /// <summary>Parses one command at c.InStart into _args. Incomplete: wait for more bytes (nothing consumed).</summary>
    private RedisParseStatus Parse(RedisConnection c, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        _argc = 0;
        var buf = c.In.AsSpan(c.InStart, c.InEnd - c.InStart);
        return buf[0] == (byte)'*' ? ParseMultiBulk(c.InStart, buf, out consumed, out error) : ParseInline(c.InStart, buf, out consumed, out error);
    }

    private RedisParseStatus ParseInline(int origin, ReadOnlySpan<byte> buf, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        int nl = buf.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (buf.Length > MaxInlineLength) { error = "ERR Protocol error: too big inline request"; return RedisParseStatus.Error; }
            return RedisParseStatus.Incomplete;
        }
        if (nl > MaxInlineLength) { error = "ERR Protocol error: too big inline request"; return RedisParseStatus.Error; }
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
        return RedisParseStatus.Complete;
    }

    private RedisParseStatus ParseMultiBulk(int origin, ReadOnlySpan<byte> buf, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        int pos = 1;
        var st = ReadNumberLine(buf, ref pos, out long count);
        if (st == RedisParseStatus.Incomplete) return st;
        if (st == RedisParseStatus.Error || count > MaxArgs) { error = "ERR Protocol error: invalid multibulk length"; return RedisParseStatus.Error; }
        for (long k = 0; k < count; k++)
        {
            if (pos >= buf.Length) return RedisParseStatus.Incomplete;
            if (buf[pos] != (byte)'$')
            {
                error = $"ERR Protocol error: expected '$', got '{Printable(buf[pos])}'";
                return RedisParseStatus.Error;
            }
            pos++;
            st = ReadNumberLine(buf, ref pos, out long length);
            if (st == RedisParseStatus.Incomplete) return st;
            if (st == RedisParseStatus.Error || length < 0 || length > MaxBulkLength) { error = "ERR Protocol error: invalid bulk length"; return RedisParseStatus.Error; }
            if (buf.Length - pos < length + 2) return RedisParseStatus.Incomplete;
            if (buf[pos + (int)length] != (byte)'\r' || buf[pos + (int)length + 1] != (byte)'\n')
            {
                error = "ERR Protocol error: bulk string not terminated by CRLF";
                return RedisParseStatus.Error;
            }
            AddArg(origin + pos, (int)length);
            pos += (int)length + 2;
        }
        consumed = pos;      // *0 and *-1 parse as an empty command, which is skipped (as redis does)
        return RedisParseStatus.Complete;
    }

    /// <summary>Reads "[-]digits\r\n" at pos (after the type byte).</summary>
    private static RedisParseStatus ReadNumberLine(ReadOnlySpan<byte> buf, ref int pos, out long value)
    {
        value = 0;
        var rest = buf[pos..];
        int cr = rest[..Math.Min(rest.Length, 24)].IndexOf((byte)'\r');     // a count has at most 20 characters
        if (cr < 0) return rest.Length >= 24 ? RedisParseStatus.Error : RedisParseStatus.Incomplete;
        if (cr + 1 >= rest.Length) return RedisParseStatus.Incomplete;
        if (rest[cr + 1] != (byte)'\n' || !TryParseInteger(rest[..cr], out value)) return RedisParseStatus.Error;
        pos += cr + 2;
        return RedisParseStatus.Complete;
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

    private static void WriteError(RedisConnection c, string message)
    {
        var span = c.ReserveOut(Encoding.UTF8.GetMaxByteCount(message.Length) + 4);
        span[0] = (byte)'-';
        int n = 1 + Encoding.UTF8.GetBytes(message, span[1..]);
        span[n] = (byte)'\r';
        span[n + 1] = (byte)'\n';
        c.OutLength += n + 2;
    }

    private static void WriteInteger(RedisConnection c, long value)
    {
        var span = c.ReserveOut(24);
        span[0] = (byte)':';
        value.TryFormat(span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }

    private static void WriteArrayHeader(RedisConnection c, int count) => WritePrefixed(c, (byte)'*', count);

    private static void WritePrefixed(RedisConnection c, byte type, long value)
    {
        var span = c.ReserveOut(24);
        span[0] = type;
        value.TryFormat(span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        c.OutLength += n + 3;
    }

    private static void WriteBulk(RedisConnection c, ReadOnlySpan<byte> value)
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

    private static void WriteBulk(RedisConnection c, string value) => WriteBulk(c, Encoding.UTF8.GetBytes(value));

    private static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;
    private static ReadOnlySpan<byte> Null => "$-1\r\n"u8;
}
