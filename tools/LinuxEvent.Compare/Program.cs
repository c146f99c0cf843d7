// LinuxEvent.Compare: the echo comparison behind ci/bench.sh. Runs every selected workload against our reactor and
// proactor echo-server and the project's own baselines (C epoll, C liburing, .NET Sockets; tools/baselines and
// tools/SocketsEcho), server pinned to CPU 0 and load generator to CPU 1, servers interleaved; prints a summary that
// fits 100 columns and writes results.md, chart.svg, results.json and raw.log. See docs/benchmarks.md.
using System.CommandLine;
using System.Globalization;
using LinuxEvent.Compare;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var quick = new Option<bool>("--quick") { Description = "1 rep, 1 s measured after 0.5 s warm-up, 0.5 s quiet wait, no retries (explicit options still win)" };
var reps = new Option<int?>("--reps") { Description = "runs per workload and server, servers interleaved (default 3)" };
var seconds = new Option<double?>("--seconds") { Description = "measured seconds per run (default 4)" };
var warmup = new Option<double?>("--warmup") { Description = "warm-up seconds per run before measuring (default 1)" };
var workloads = new Option<string>("--workloads", "--shapes") { Description = $"comma-separated, 'default' or 'all'; known: {string.Join(", ", WorkloadRegistry.All.Select(w => w.Name))}", DefaultValueFactory = _ => "default" };
var servers = new Option<string>("--servers") { Description = $"comma-separated from: {string.Join(", ", ServerCatalog.AllNames)}; default: {string.Join(",", ServerCatalog.DefaultNames)}", DefaultValueFactory = _ => "default" };
var load = new Option<string>("--load") { Description = "load generator: auto (the C loadgen if built, else LinuxEvent.Load), c, dotnet, or both (every run with each)", DefaultValueFactory = _ => "auto" };
var repo = new Option<string?>("--repo") { Description = "repository root (default: found upwards from the working directory or this tool)" };
var outDir = new Option<string?>("--out") { Description = "results directory (default: <repo>/artifacts/bench/<timestamp>)" };
var echoServer = new Option<string?>("--echo-server") { Description = "our echo-server (default: <repo>/artifacts/bin/echo-server/echo-server)" };
var echoServerB = new Option<string?>("--echo-server-b") { Description = "another build of our echo-server, for an A/B of two builds in one interleaved run: servers named NAME-b (reactor-b, proactor-b, ...) run it" };
var dotnetLoad = new Option<string?>("--dotnet-load") { Description = "LinuxEvent.Load (default: <repo>/artifacts/bin/load/LinuxEvent.Load)" };
var baselinesBin = new Option<string?>("--baselines-bin") { Description = "directory of loadgen, echo_epoll, echo_uring (default: <repo>/artifacts/baselines/bin)" };
var socketsEcho = new Option<string?>("--sockets-echo") { Description = "the .NET Sockets server (default: <repo>/artifacts/bin/sockets-echo/SocketsEcho)" };
var quietWait = new Option<double?>("--quiet-wait") { Description = "seconds to wait before each run for both CPUs to be <= 10% busy (default 20)" };
var retries = new Option<int?>("--retries") { Description = "repeat a noisy run up to N times; the last attempt counts (default 1)" };
var portTimeout = new Option<double>("--port-timeout") { Description = "seconds to wait for a server to listen", DefaultValueFactory = _ => 20 };
var fromRaw = new Option<string?>("--from-raw") { Description = "re-render the reports of an earlier run from its raw.log (no runs; writes next to it)" };
var pin = new Option<string>("--pin") { Description = "split (server CPU 0, load CPU 1: the standard) or none (for multi-loop servers)", DefaultValueFactory = _ => "split" };
var list = new Option<bool>("--list") { Description = "list the workloads and servers, then exit" };

var root = new RootCommand("Echo comparison: LinuxEvent reactor and proactor against C epoll, C liburing and .NET Sockets.")
{
    quick, reps, seconds, warmup, workloads, servers, load, repo, outDir, echoServer, echoServerB, dotnetLoad, baselinesBin, socketsEcho,
    quietWait, retries, portTimeout, fromRaw, pin, list,
};

root.SetAction(parse =>
{
    if (parse.GetValue(list))
    {
        foreach (var w in WorkloadRegistry.All) Console.WriteLine($"workload {w.Name,-6} {(w.InDefaultSet ? "default" : "       ")}  {w.Title}");
        foreach (var n in ServerCatalog.AllNames) Console.WriteLine($"server   {n,-19} {(ServerCatalog.DefaultNames.Contains(n) ? "default" : "")}");
        return 0;
    }
    bool q = parse.GetValue(quick);
    var settings = new Settings
    {
        Quick = q,
        Reps = parse.GetValue(reps) ?? (q ? 1 : 3),
        Seconds = parse.GetValue(seconds) ?? (q ? 1.0 : 4.0),
        Warmup = parse.GetValue(warmup) ?? (q ? 0.5 : 1.0),
        QuietWait = parse.GetValue(quietWait) ?? (q ? 0.5 : 20.0),
        Retries = parse.GetValue(retries) ?? (q ? 0 : 1),
        PortTimeout = parse.GetValue(portTimeout),
        Workloads = parse.GetValue(workloads)!,
        Servers = parse.GetValue(servers)!,
        Load = parse.GetValue(load)!,
        Repo = parse.GetValue(repo),
        Out = parse.GetValue(outDir),
        EchoServer = parse.GetValue(echoServer),
        EchoServerB = parse.GetValue(echoServerB),
        DotnetLoad = parse.GetValue(dotnetLoad),
        BaselinesBin = parse.GetValue(baselinesBin),
        SocketsEcho = parse.GetValue(socketsEcho),
        FromRaw = parse.GetValue(fromRaw),
        Pin = parse.GetValue(pin)!,
        Argv = args,
    };
    try
    {
        return Compare.Run(settings);
    }
    catch (UsageException ex)
    {
        Console.Error.WriteLine($"LinuxEvent.Compare: {ex.Message}");
        return 2;
    }
    finally
    {
        Spawned.StopAll();
    }
});

return root.Parse(args).Invoke();
