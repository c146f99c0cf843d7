#!/usr/bin/env dotnet
// statsd: a statsd-style UDP metrics receiver on LinuxEvent.Net's DatagramSocket; the same code runs on the reactor
// (epoll) and the proactor (io_uring) model.
//
//   dotnet run examples/statsd.cs -- --model reactor|proactor [--port 8125] [--interval-ms 1000]
//   echo -n "logins:1|c" | nc -u -w0 127.0.0.1 8125            (a metric)
//   echo -n "?logins" | nc -u -w1 127.0.0.1 8125               (a query: replies "logins:1|c")
//
// Each datagram holds one or more lines "name:value|type", type c (counter, optional "|@rate" sample rate: the value
// counts 1/rate times), g (gauge: the last value wins) or ms (timer: the mean is kept). Every interval the server
// prints one line with what arrived during it ("flush 3: logins=5/c rtt=12.5/ms"); a quiet interval prints nothing.
// A datagram that starts with '?' is a query, answered to its sender: "?name" gets the metric's running value since
// start ("name:3|c", "name:unknown"), "?" alone gets every metric, one per line. Malformed lines are skipped and
// counted in the metric "_bad". SIGINT/SIGTERM print the last flush, close the socket and exit 0.
//
// Metric names are looked up without allocating: the bytes are decoded into a stack buffer and the dictionary is
// searched by span (Dictionary.GetAlternateLookup); a string is made only for a name seen for the first time.
#:project ../src/LinuxEvent.Net/LinuxEvent.Net.csproj
#:property PublishAot=false

using System.Globalization;
using System.Net;
using System.Text;
using LinuxEvent;
using LinuxEvent.Net;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

LoopModel? model = null;
int port = 8125, intervalMs = 1000;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--model" when args[i + 1] is "reactor" or "proactor": model = args[i + 1] == "reactor" ? LoopModel.Reactor : LoopModel.Proactor; break;
        case "--port" when int.TryParse(args[i + 1], out int p) && p is > 0 and < 65536: port = p; break;
        case "--interval-ms" when int.TryParse(args[i + 1], out int ms) && ms > 0: intervalMs = ms; break;
        default: return Usage($"bad argument '{args[i]} {args[i + 1]}'");
    }
}
if (args.Length % 2 != 0) return Usage($"'{args[^1]}' needs a value");
if (model is null) return Usage("--model reactor|proactor is required (the model is always explicit)");

Loop loop;
try { loop = Loop.Create(model.Value); }
catch (LinuxEventUnsupportedException ex)
{
    Console.Error.WriteLine($"statsd: the {model} model is not available here: {ex.Message}");
    return 3;
}
using (loop)
{
    loop.UnhandledException = (_, ex) => Console.Error.WriteLine($"statsd: unexpected error: {ex}");
    DatagramSocket socket;
    try { socket = DatagramSocket.Bind(loop, new IPEndPoint(IPAddress.Loopback, port)); }
    catch (Exception ex) when (ex is ILinuxEventError)
    {
        Console.Error.WriteLine($"statsd: {ex.Message}");
        return 1;
    }
    var server = new StatsServer();
    socket.StartReceiving(server.OnDatagram);
    var flushing = loop.Every(TimeSpan.FromMilliseconds(intervalMs), _ => server.Flush());
    void Stop(Loop l)
    {
        flushing.Cancel();
        server.Flush();
        socket.Dispose();
        Console.WriteLine($"statsd: stopped after {socket.ReceivedDatagrams} datagrams");
        l.Stop();
    }
    loop.Signal(2, (l, _) => Stop(l));
    loop.Signal(15, (l, _) => Stop(l));
    Console.WriteLine($"statsd: listening on udp {socket.LocalEndPoint} ({model.Value.ToString().ToLowerInvariant()}), flush every {intervalMs} ms");
    loop.Run();
}
return 0;

static int Usage(string problem)
{
    Console.Error.WriteLine($"statsd: {problem}");
    Console.Error.WriteLine("usage: statsd --model reactor|proactor [--port 8125] [--interval-ms 1000]");
    return 2;
}

/// <summary>One metric: its running value since start, and what arrived during the current interval.</summary>
internal sealed class Metric(string name, char type)
{
    public readonly string Name = name;
    public readonly char Type = type;              // 'c', 'g' or 'm' (ms)
    public double Total, TotalCount;                // counter: sum; gauge: last; timer: sum and count
    public double Interval, IntervalCount;

    public void Add(double value)
    {
        if (Type == 'g') { Total = Interval = value; TotalCount = IntervalCount = 1; return; }
        Total += value; Interval += value;
        TotalCount++; IntervalCount++;
    }

    private static string Format(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    public string Running => $"{Name}:{Format(Type == 'm' ? Total / TotalCount : Total)}|{(Type == 'm' ? "ms" : Type.ToString())}";

    public string TakeInterval()
    {
        string s = $"{Name}={Format(Type == 'm' ? Interval / IntervalCount : Interval)}/{(Type == 'm' ? "ms" : Type.ToString())}";
        Interval = IntervalCount = 0;
        return s;
    }
}

/// <summary>Parses metric lines and queries; all on the loop thread, so no locks.</summary>
internal sealed class StatsServer
{
    private readonly Dictionary<string, Metric> _metrics = new(StringComparer.Ordinal);
    private readonly List<Metric> _seen = new();
    private readonly Metric _bad = new("_bad", 'c');
    private int _flushes;

    public void OnDatagram(DatagramSocket s, ReadOnlySpan<byte> datagram, EndPoint? from)
    {
        if (!datagram.IsEmpty && datagram[0] == (byte)'?')
        {
            if (from is not null) s.SendTo(Encoding.ASCII.GetBytes(Answer(datagram[1..])), from);
            return;
        }
        foreach (var range in datagram.Split((byte)'\n'))
        {
            var line = datagram[range].TrimEnd((byte)'\r');
            if (!line.IsEmpty && !TryRecord(line)) Count(_bad, 1);
        }
    }

    /// <summary>"name:value|type[|@rate]".</summary>
    private bool TryRecord(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        int bar = line.IndexOf((byte)'|');
        if (colon <= 0 || bar < colon + 2 || line.Length > 256) return false;
        var typeAndRate = line[(bar + 1)..];
        int rateBar = typeAndRate.IndexOf((byte)'|');
        var type = rateBar < 0 ? typeAndRate : typeAndRate[..rateBar];
        char kind = type.SequenceEqual("c"u8) ? 'c' : type.SequenceEqual("g"u8) ? 'g' : type.SequenceEqual("ms"u8) ? 'm' : '\0';
        if (kind == '\0' || !TryNumber(line[(colon + 1)..bar], out double value)) return false;
        if (rateBar >= 0)
        {
            var rate = typeAndRate[(rateBar + 1)..];
            if (kind != 'c' || rate.Length < 2 || rate[0] != (byte)'@' || !TryNumber(rate[1..], out double r) || r <= 0 || r > 1) return false;
            value /= r;
        }
        var metric = Find(line[..colon], kind, create: true);
        if (metric is null || metric.Type != kind) return false;       // a name keeps its first type
        Count(metric, value);
        return true;
    }

    private static bool TryNumber(ReadOnlySpan<byte> text, out double value)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private void Count(Metric metric, double value)
    {
        if (metric.IntervalCount == 0) _seen.Add(metric);
        metric.Add(value);
    }

    private Metric? Find(ReadOnlySpan<byte> name, char kind, bool create)
    {
        Span<char> chars = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] is < 0x21 or > 0x7E) return null;             // printable ASCII names only
            chars[i] = (char)name[i];
        }
        if (chars.SequenceEqual("_bad")) return _bad;
        var lookup = _metrics.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars, out var metric) || !create) return metric;
        metric = new Metric(new string(chars), kind);
        _metrics.Add(metric.Name, metric);
        return metric;
    }

    private string Answer(ReadOnlySpan<byte> query)
    {
        if (query.TrimEnd((byte)'\n').IsEmpty)
            return string.Join('\n', _metrics.Values.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => m.Running).Append(_bad.Running));
        var name = query.TrimEnd((byte)'\n');
        var metric = Find(name, '\0', create: false);
        return metric is null || metric.TotalCount == 0 ? $"{Encoding.ASCII.GetString(name)}:unknown" : metric.Running;
    }

    public void Flush()
    {
        if (_seen.Count == 0) return;
        _flushes++;
        var line = new StringBuilder($"flush {_flushes}:");
        foreach (var m in _seen.OrderBy(m => m.Name, StringComparer.Ordinal)) line.Append(' ').Append(m.TakeInterval());
        _seen.Clear();
        Console.WriteLine(line);
    }
}
