using System.Globalization;
using LinuxEvent.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Redis;

/// <summary>
/// One redis user on its own simulated host: sends pipelined batches of commands on its own keys (plus INCR of a shared
/// counter) through a <see cref="LoopStream"/>, parses the replies, and checks each against its model of its keys,
/// reply by reply, in order.
/// </summary>
public sealed class RedisScenarioClient
{
    private readonly RedisScenario _scenario;
    private readonly SimRandom _random;
    private readonly Queue<RedisCommand> _pending = new();
    private readonly Dictionary<string, KeyState> _keys = new();     // lookups only
    private readonly List<byte> _input = new();
    private LoopStream? _stream;
    private int _issued, _batches;

    internal RedisScenarioClient(RedisScenario scenario, SimHost host, int index, SimRandom random)
    {
        _scenario = scenario;
        Host = host;
        Index = index;
        _random = random;
    }

    /// <summary>The client's host.</summary>
    public SimHost Host { get; }

    /// <summary>The client's number (its keys are named after it).</summary>
    public int Index { get; }

    /// <summary>The stream ended (or the connect failed).</summary>
    public bool Closed { get; private set; }

    /// <summary>What ended the client abnormally, or null.</summary>
    public Exception? Error { get; private set; }

    /// <summary>True once every command was answered.</summary>
    public bool Done => _issued == _scenario.CommandsPerClient && _pending.Count == 0;

    /// <summary>True while connected without error.</summary>
    public bool Alive => !Closed && Error is null;

    /// <summary>Values the shared counter's INCR replied with.</summary>
    public List<long> SharedIncrements { get; } = new();

    /// <summary>INCRs of the shared counter sent and never answered (the connection died): they may or may not have run.</summary>
    public int UnansweredSharedIncrements => _pending.Count(c => c.Kind == RedisCommandKind.IncrShared);

    /// <summary>The reply to a lone command (the final check), once it came.</summary>
    public RespReply? LastReply { get; private set; }

    internal void Connect(Action? onConnected = null) => Host.Connect(_scenario.ServerEndPoint, r =>
    {
        if (!r.Succeeded)
        {
            Error = r.Error;
            Closed = true;
            return;
        }
        _stream = r.Connection.ToStream(Host.Loop);
        _stream.OnData = (_, data) => OnData(data);
        _stream.OnError = (_, ex) => Error ??= ex;
        _stream.OnClose = (_, reason) =>
        {
            Closed = true;
            Host.Simulator.Trace.Note($"r{Index} closed ({reason})");
        };
        _stream.Start();
        if (onConnected is not null) onConnected();
        else NextBatchLater();
    });

    private void NextBatchLater()
        => Host.Loop.After(TimeSpan.FromTicks(_random.NextInRange(0, _scenario.MaxPause.Ticks)), this, static (_, c) => c.SendBatch());

    private void SendBatch()
    {
        if (_stream is not { IsClosed: false } stream) return;
        int n = Math.Min(1 + _random.Next(5), _scenario.CommandsPerClient - _issued);
        long now = Host.Loop.NowNanoseconds;
        for (int i = 0; i < n; i++)
        {
            var cmd = NextCommand(now);
            _pending.Enqueue(cmd);
            stream.Write(cmd.Encode());
            _issued++;
        }
        _batches++;
    }

    /// <summary>Sends one command on its own (the final read of the shared counter).</summary>
    internal void SendAlone(RedisCommand command)
    {
        _pending.Enqueue(command with { SentAt = Host.Loop.NowNanoseconds });
        _stream!.Write(command.Encode());
    }

    private RedisCommand NextCommand(long now)
    {
        string own = $"k{Index}:{_random.Next(3)}", ttlKey = $"t{Index}:{_random.Next(2)}";
        string either = _random.Next(3) == 0 ? ttlKey : own;
        RedisCommand Make(RedisCommandKind kind, string? key, long ttlNs, params string[] args) => new(kind, args, key, ttlNs, now);
        int roll = _random.Next(100);
        switch (roll)
        {
            case < 18: return Make(RedisCommandKind.Set, own, 0, "SET", own, Value());
            case < 33: return Make(RedisCommandKind.Get, either, 0, "GET", either);
            case < 38: return Make(RedisCommandKind.Del, either, 0, "DEL", either);
            case < 43: return Make(RedisCommandKind.Exists, either, 0, "EXISTS", either);
            case < 55: return Make(RedisCommandKind.Incr, $"n{Index}", 0, "INCR", $"n{Index}");
            case < 67: return Make(RedisCommandKind.IncrShared, RedisScenario.SharedCounter, 0, "INCR", RedisScenario.SharedCounter);
            case < 78:
            {
                long ms = _random.NextInRange(1, 400);
                return Make(RedisCommandKind.SetWithTtl, ttlKey, ms * 1_000_000, "SET", ttlKey, Value(), "PX", ms.ToString(CultureInfo.InvariantCulture));
            }
            case < 84: return Make(RedisCommandKind.Ttl, either, 0, "TTL", either);
            case < 88:
            {
                long seconds = _random.NextInRange(1, 2);
                return Make(RedisCommandKind.Expire, either, seconds * 1_000_000_000, "EXPIRE", either, seconds.ToString(CultureInfo.InvariantCulture));
            }
            case < 93: return Make(RedisCommandKind.Ping, null, 0, "PING");
            case < 98: return Make(RedisCommandKind.Echo, null, 0, "ECHO", Value());
            default: return Make(RedisCommandKind.Unknown, null, 0, "NOPE", "x");
        }
    }

    private string Value() => $"v{Index}.{_issued}." + new string((char)('a' + _random.Next(26)), _random.Next(200));

    private void OnData(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) _input.Add(b);
        var buffer = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_input);
        int used = 0;
        while (true)
        {
            int n = RespReply.TryParse(buffer[used..], out var reply);
            if (n == 0) break;
            if (n < 0)
            {
                Host.Simulator.Fail($"r{Index}: the server sent bytes that are not RESP");
                _stream!.Close();
                return;
            }
            used += n;
            if (!_pending.TryDequeue(out var cmd))
            {
                Host.Simulator.Fail($"r{Index}: a reply nobody asked for: {reply}");
                return;
            }
            LastReply = reply;
            string? problem = Check(cmd, reply!, Host.Loop.NowNanoseconds);
            if (problem is not null) Host.Simulator.Fail($"r{Index}: {cmd} (sent at {cmd.SentAt}, answered at {Host.Loop.NowNanoseconds}): {problem}, got {reply}");
        }
        _input.RemoveRange(0, used);
        if (_pending.Count == 0 && _issued < _scenario.CommandsPerClient && _batches > 0 && !Closed) NextBatchLater();
    }

    private KeyState State(string key) => _keys.TryGetValue(key, out var s) ? s : _keys[key] = new KeyState();

    /// <summary>Checks a reply against the model and applies the command to it; returns what is wrong, or null.</summary>
    private string? Check(RedisCommand c, RespReply r, long replied)
    {
        long sent = c.SentAt;
        switch (c.Kind)
        {
            case RedisCommandKind.Set:
            {
                if (r.Type != '+' || r.Text != "OK") return "expected +OK";
                var k = State(c.Key!);
                k.Clear();
                k.Value = c.Args[2];
                return null;
            }
            case RedisCommandKind.SetWithTtl:
            {
                if (r.Type != '+' || r.Text != "OK") return "expected +OK";
                var k = State(c.Key!);
                k.Value = c.Args[2];
                k.Expire(c.TtlNs, sent, replied);
                return null;
            }
            case RedisCommandKind.Get:
            {
                var k = State(c.Key!);
                bool? exists = k.ExistsDuring(sent, replied);
                if (r.Type != '$') return "expected a bulk string";
                if (r.Text is null)
                {
                    if (exists == true) return $"expected \"{k.Value}\" (it cannot have expired yet)";
                    k.Clear();
                    return null;
                }
                if (exists == false) return "expected (nil): the key is gone";
                return r.Text == k.Value ? null : $"expected \"{k.Value}\"";
            }
            case RedisCommandKind.Del:
            case RedisCommandKind.Exists:
            {
                var k = State(c.Key!);
                bool? exists = k.ExistsDuring(sent, replied);
                if (r.Type != ':' || r.Integer is not (0 or 1)) return "expected :0 or :1";
                if (exists is { } e && r.Integer != (e ? 1 : 0)) return $"expected :{(e ? 1 : 0)}";
                if (c.Kind == RedisCommandKind.Del || r.Integer == 0) k.Clear();
                return null;
            }
            case RedisCommandKind.Incr:
            {
                var k = State(c.Key!);
                long expected = (k.Value is null ? 0 : long.Parse(k.Value, CultureInfo.InvariantCulture)) + 1;
                if (r.Type != ':' || r.Integer != expected) return $"expected :{expected}";
                k.Value = expected.ToString(CultureInfo.InvariantCulture);
                return null;
            }
            case RedisCommandKind.IncrShared:
                if (r.Type != ':' || r.Integer < 1) return "expected a positive integer";
                SharedIncrements.Add(r.Integer);
                return null;
            case RedisCommandKind.Expire:
            {
                var k = State(c.Key!);
                bool? exists = k.ExistsDuring(sent, replied);
                if (r.Type != ':' || r.Integer is not (0 or 1)) return "expected :0 or :1";
                if (exists is { } e && r.Integer != (e ? 1 : 0)) return $"expected :{(e ? 1 : 0)}";
                if (r.Integer == 0) k.Clear();
                else k.Expire(c.TtlNs, sent, replied);
                return null;
            }
            case RedisCommandKind.Ttl:
            {
                var k = State(c.Key!);
                bool? exists = k.ExistsDuring(sent, replied);
                if (r.Type != ':') return "expected an integer";
                if (r.Integer == -2)
                {
                    if (exists == true) return "expected the key to exist";
                    k.Clear();
                    return null;
                }
                if (exists == false) return "expected :-2";
                if (k.ExpiresNoEarlier == 0) return r.Integer == -1 ? null : "expected :-1 (no TTL)";
                long low = (k.ExpiresNoEarlier - replied + 500_000_000L) / 1_000_000_000L;
                long high = (k.ExpiresNoLater - sent + 500_000_000L) / 1_000_000_000L;
                return r.Integer >= Math.Max(0, low) && r.Integer <= high ? null : $"expected a TTL in [{Math.Max(0, low)}, {high}]";
            }
            case RedisCommandKind.Ping:
                return r.Type == '+' && r.Text == "PONG" ? null : "expected +PONG";
            case RedisCommandKind.Echo:
                return r.Type == '$' && r.Text == c.Args[1] ? null : "expected the text back";
            case RedisCommandKind.ReadShared:
                return r.Type == '$' && (r.Text is null || long.TryParse(r.Text, NumberStyles.None, CultureInfo.InvariantCulture, out _)) ? null : "expected a number or (nil)";
            case RedisCommandKind.Unknown:
                return r.Type == '-' && r.Text!.StartsWith("ERR unknown command 'NOPE'", StringComparison.Ordinal) ? null : "expected -ERR unknown command";
            default:
                return "unexpected command";
        }
    }

    /// <summary>Leaves: closes the stream once its output is written.</summary>
    internal void Leave() => Host.Post(_ => _stream?.CloseAfterDrain());
}
