// LinuxEvent.Compare: runs the echo comparison — our reactor and proactor echo-server, and the reference servers of
// ../shared/peers when present — server pinned to CPU 0, load generator pinned to CPU 1, interleaved, and writes a
// table (console + Markdown) and an SVG bar chart. See docs/benchmarks.md.
using System.CommandLine;
using System.Globalization;
using LinuxEvent.Compare;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var quick = new Option<bool>("--quick") { Description = "~30 s in total: 1 rep, 1 s measured after 0.5 s warm-up (overrides the defaults, not explicit options)" };
var reps = new Option<int?>("--reps") { Description = "runs per server and shape, interleaved (default 3; --quick 1)" };
var seconds = new Option<double?>("--seconds") { Description = "measured seconds per run (default 4; --quick 1)" };
var warmup = new Option<double?>("--warmup") { Description = "warm-up seconds per run before measuring (default 1; --quick 0.5)" };
var shapes = new Option<string>("--shapes") { Description = "load shapes: a (50 conns × 64 B depth 1), b (50 × 64 B depth 16), c (10 × 16 KiB depth 4), d (500 × 64 B depth 1; not in the default set), comma-separated", DefaultValueFactory = _ => "a,b,c" };
var servers = new Option<string>("--servers") { Description = $"servers, comma-separated, from: {string.Join(", ", ServerCatalog.AllNames)}; default: every available one of {string.Join(",", ServerCatalog.DefaultNames)}", DefaultValueFactory = _ => "default" };
var load = new Option<string>("--load") { Description = "load generator: auto (echoload if built, else dotnet), echoload, dotnet (tools/LinuxEvent.Load), or both (every run once with each: compares the generators)", DefaultValueFactory = _ => "auto" };
var repo = new Option<string?>("--repo") { Description = "repository root (default: found from the working directory or this tool's location)" };
var outDir = new Option<string?>("--out") { Description = "results directory (default: <repo>/artifacts/bench/<timestamp>)" };
var echoServer = new Option<string?>("--echo-server") { Description = "path of our echo-server (default: <repo>/artifacts/bin/echo-server/echo-server)" };
var dotnetLoad = new Option<string?>("--dotnet-load") { Description = "path of LinuxEvent.Load (default: <repo>/artifacts/bin/load/LinuxEvent.Load)" };
var peersBin = new Option<string?>("--peers-bin") { Description = "directory with built peers: echoload, echo_epoll, echo_uring, EchoSockets/EchoSockets (default: <repo>/artifacts/peers/bin)" };
var quietWait = new Option<double?>("--quiet-wait") { Description = "seconds to wait before each run for both CPUs to be idle (≤10% busy) (default 20; --quick 2)" };
var retries = new Option<int?>("--retries") { Description = "repeat a noisy run up to N times; the last attempt counts (default 1; --quick 0)" };
var fromRaw = new Option<string?>("--from-raw") { Description = "re-render results.md and chart.svg from an earlier run's raw.log (no runs; writes next to that file)" };
var pin = new Option<string>("--pin") { Description = "split (server on CPU 0, load generator on CPU 1: the standard) or none (neither pinned: for multi-loop servers such as reactor-x2)", DefaultValueFactory = _ => "split" };
var portTimeout = new Option<double>("--port-timeout") { Description = "seconds to wait for a server to listen", DefaultValueFactory = _ => 20 };

var root = new RootCommand("Echo benchmark: LinuxEvent reactor vs proactor (and C epoll, C liburing, .NET Sockets when ../shared/peers is present). Server on CPU 0, load on CPU 1.")
{
    quick, reps, seconds, warmup, shapes, servers, load, repo, outDir, echoServer, dotnetLoad, peersBin, quietWait, retries, portTimeout, fromRaw, pin,
};

root.SetAction(parse =>
{
    bool q = parse.GetValue(quick);
    var settings = new Settings
    {
        Quick = q,
        Reps = parse.GetValue(reps) ?? (q ? 1 : 3),
        Seconds = parse.GetValue(seconds) ?? (q ? 1.0 : 4.0),
        Warmup = parse.GetValue(warmup) ?? (q ? 0.5 : 1.0),
        QuietWait = parse.GetValue(quietWait) ?? (q ? 2.0 : 20.0),
        Retries = parse.GetValue(retries) ?? (q ? 0 : 1),
        PortTimeout = parse.GetValue(portTimeout),
        Shapes = parse.GetValue(shapes)!,
        Servers = parse.GetValue(servers)!,
        Load = parse.GetValue(load)!,
        Repo = parse.GetValue(repo),
        Out = parse.GetValue(outDir),
        EchoServer = parse.GetValue(echoServer),
        DotnetLoad = parse.GetValue(dotnetLoad),
        PeersBin = parse.GetValue(peersBin),
        FromRaw = parse.GetValue(fromRaw),
        Pin = parse.GetValue(pin)!,
    };
    if (settings.Pin is not ("split" or "none"))
    {
        Console.Error.WriteLine($"LinuxEvent.Compare: --pin: unknown '{settings.Pin}' (split|none)");
        return 2;
    }
    try
    {
        return Compare.Run(settings);
    }
    catch (UsageException ex)
    {
        Console.Error.WriteLine($"LinuxEvent.Compare: {ex.Message}");
        return 2;
    }
});

return root.Parse(args).Invoke();
