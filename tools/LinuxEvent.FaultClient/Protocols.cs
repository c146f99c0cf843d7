using System.Text;

namespace LinuxEvent.FaultClient;

/// <summary>Thrown when a reply differs from what the request asked for.</summary>
internal sealed class ReplyMismatchException(string message) : Exception(message);

/// <summary>Checks one reply as its bytes arrive, in any split.</summary>
internal interface IReplyMatcher
{
    /// <summary>Consumes bytes of this reply from the front of <paramref name="data"/> and returns how many; never more
    /// than the reply still needs. Throws <see cref="ReplyMismatchException"/> on a wrong byte.</summary>
    int Feed(ReadOnlySpan<byte> data);

    /// <summary>True once the whole reply has been seen.</summary>
    bool Done { get; }

    /// <summary>True once at least one byte of the reply has been seen.</summary>
    bool Started { get; }
}

/// <summary>A reply that must equal a known byte string.</summary>
internal sealed class ExactMatcher(byte[] expected) : IReplyMatcher
{
    private int _seen;

    public bool Done => _seen == expected.Length;

    public bool Started => _seen > 0;

    public int Feed(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, expected.Length - _seen);
        var want = expected.AsSpan(_seen, n);
        int diff = data[..n].CommonPrefixLength(want);
        if (diff < n)
            throw new ReplyMismatchException($"byte {_seen + diff} of a {expected.Length}-byte reply is 0x{data[diff]:x2}, expected 0x{want[diff]:x2}");
        _seen += n;
        return n;
    }
}

/// <summary>
/// An HTTP/1.1 response to GET /plaintext: status line "HTTP/1.1 200 OK", headers (a Date header changes every
/// second, so they are parsed, not compared), Content-Length: 13 and the body "Hello, World!".
/// </summary>
internal sealed class PlaintextResponseMatcher : IReplyMatcher
{
    private static readonly byte[] s_body = "Hello, World!"u8.ToArray();
    private readonly List<byte> _head = new();
    private ExactMatcher? _body;

    public bool Done => _body?.Done == true;

    public bool Started => _head.Count > 0;

    public int Feed(ReadOnlySpan<byte> data)
    {
        int used = 0;
        while (_body is null && used < data.Length)
        {
            _head.Add(data[used++]);
            if (_head.Count > 4096) throw new ReplyMismatchException("response head longer than 4096 bytes");
            int c = _head.Count;
            if (c >= 4 && _head[c - 4] == '\r' && _head[c - 3] == '\n' && _head[c - 2] == '\r' && _head[c - 1] == '\n')
                _body = new ExactMatcher(CheckHead(Encoding.ASCII.GetString(_head.ToArray())));
        }
        if (_body is not null && used < data.Length) used += _body.Feed(data[used..]);
        return used;
    }

    private static byte[] CheckHead(string head)
    {
        if (!head.StartsWith("HTTP/1.1 200 OK\r\n", StringComparison.Ordinal))
            throw new ReplyMismatchException($"status line is '{head.Split('\r')[0]}', expected 'HTTP/1.1 200 OK'");
        foreach (string line in head.Split("\r\n"))
        {
            if (!line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) continue;
            if (line["Content-Length:".Length..].Trim() != "13") throw new ReplyMismatchException($"'{line}', expected a 13-byte body");
            return s_body;
        }
        throw new ReplyMismatchException("response has no Content-Length");
    }
}

/// <summary>One request: its bytes, the check of its reply, and when it was fully handed to the kernel.</summary>
internal sealed class Request(long index, byte[] bytes, IReplyMatcher reply)
{
    public readonly long Index = index;
    public readonly byte[] Bytes = bytes;
    public readonly IReplyMatcher Reply = reply;
    /// <summary>Stopwatch timestamp before the first send() of the request.</summary>
    public long SendStartedAt;
    /// <summary>Stopwatch timestamp once send() took the last byte (0 while sending).</summary>
    public long SentAt;
    /// <summary>Stopwatch timestamp when the last byte of the reply was checked (0 while unanswered).</summary>
    public long AnsweredAt;
}

/// <summary>Generates the requests of one connection, deterministically from a seed.</summary>
internal abstract class Protocol(Random random)
{
    protected readonly Random Random = random;
    private long _next;

    public static Protocol Create(string name, int seed, int maxSize) => name switch
    {
        "echo" => new EchoProtocol(new Random(seed), maxSize),
        "redis" => new RedisProtocol(new Random(seed), maxSize),
        "http" => new HttpProtocol(new Random(seed)),
        _ => throw new ArgumentException($"unknown protocol '{name}' (echo|redis|http)"),
    };

    public Request Next() => Build(_next++);

    protected abstract Request Build(long index);
}

/// <summary>Random bytes of random length; the reply is the same bytes.</summary>
internal sealed class EchoProtocol(Random random, int maxSize) : Protocol(random)
{
    protected override Request Build(long index)
    {
        var bytes = new byte[Random.Next(1, maxSize + 1)];
        Random.NextBytes(bytes);
        return new Request(index, bytes, new ExactMatcher(bytes));
    }
}

/// <summary>
/// Alternates SET key value (reply +OK) and GET of the same key (reply the value as a bulk string). Keys are unique
/// per connection and request, values are random binary (CR and LF included) of random length.
/// </summary>
internal sealed class RedisProtocol(Random random, int maxSize) : Protocol(random)
{
    private static readonly byte[] s_ok = "+OK\r\n"u8.ToArray();
    private readonly string _prefix = $"fault:{random.Next():x8}:";
    private byte[] _key = [], _value = [];

    protected override Request Build(long index)
    {
        if (index % 2 == 0)
        {
            _key = Encoding.ASCII.GetBytes(_prefix + index);
            _value = new byte[Random.Next(1, Math.Max(2, maxSize / 4))];
            Random.NextBytes(_value);
            return new Request(index, Command("SET"u8, _key, _value), new ExactMatcher(s_ok));
        }
        var reply = Concat(Encoding.ASCII.GetBytes($"${_value.Length}\r\n"), _value, "\r\n"u8);
        return new Request(index, Command("GET"u8, _key), new ExactMatcher(reply));
    }

    private static byte[] Command(ReadOnlySpan<byte> name, params byte[][] args)
    {
        var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Length + 1}\r\n${name.Length}\r\n"));
        ms.Write(name);
        ms.Write("\r\n"u8);
        foreach (var a in args)
        {
            ms.Write(Encoding.ASCII.GetBytes($"${a.Length}\r\n"));
            ms.Write(a);
            ms.Write("\r\n"u8);
        }
        return ms.ToArray();
    }

    private static byte[] Concat(byte[] a, byte[] b, ReadOnlySpan<byte> c)
    {
        var all = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        c.CopyTo(all.AsSpan(a.Length + b.Length));
        return all;
    }
}

/// <summary>GET /plaintext, keep-alive.</summary>
internal sealed class HttpProtocol(Random random) : Protocol(random)
{
    private static readonly byte[] s_request = "GET /plaintext HTTP/1.1\r\nHost: fault-client\r\n\r\n"u8.ToArray();

    protected override Request Build(long index) => new(index, s_request, new PlaintextResponseMatcher());
}
