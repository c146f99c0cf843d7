namespace LinuxEvent.Compare;

/// <summary>
/// Pub/sub fan-out (issue 14): 1 publisher and 50 subscribers of tools/LinuxEvent.FanoutBench's LoopStream server, on
/// our two models; each published 64-byte line is written to every subscriber with one WriteMessage. The publisher
/// keeps 256 messages ahead of the slowest subscriber; every delivered byte is verified. Reported: deliveries per
/// second and server CPU per delivery. Not in the default set (run with <c>--workloads fanout</c>).
/// </summary>
internal sealed class FanoutWorkload : Workload
{
    private const int Subscribers = 50, Size = 64, Window = 256;

    public override string Name => "fanout";
    public override int Order => 1;
    public override string Title => $"fanout: 1 publisher x {Subscribers} subscribers, {Size} B lines, window {Window}";
    public override WorkloadGroup Group => FanoutGroup;
    public override bool InDefaultSet => false;

    public override bool AppliesTo(ServerSpec server) => server.Name is "reactor" or "proactor";

    public override IReadOnlyDictionary<string, string> Parameters => new Dictionary<string, string>
    {
        ["mode"] = "fanout", ["subscribers"] = Fmt.I(Subscribers), ["size"] = Fmt.I(Size), ["window"] = Fmt.I(Window),
    };

    public override double EstimateSeconds(Settings s) => s.Warmup + s.Seconds + 1.5;

    /// <summary>The fan-out tool, where ci/bench.sh publishes it.</summary>
    private static string Tool(RunContext ctx) =>
        Path.Combine(ServerCatalog.FindRepo(ctx.Settings.Repo), "artifacts", "bin", "fanout", "LinuxEvent.FanoutBench");

    public override RunResult Run(RunContext ctx, ServerSpec server, int rep)
    {
        string tool = Tool(ctx);
        if (!File.Exists(tool))
            return Runner.Fail(new RunResult { Workload = this, Server = server, Load = ctx.Load, Rep = rep }, $"{tool} not found (ci/bench.sh publishes tools/LinuxEvent.FanoutBench)");
        var spec = new ServerSpec
        {
            Name = server.Name, Display = server.Display, Short = server.Short, Executable = tool,
            Arguments = ["server", "--model", server.Name, "--port", "@PORT@"],
            About = $"tools/LinuxEvent.FanoutBench server on our {server.Name} (LoopStream, line codec)",
        };
        var load = new LoadSpec { Name = ctx.Load.Name, Display = "LinuxEvent.FanoutBench client", Executable = tool };
        var r = ctx.Runner.RunLoad(this, spec, load, rep,
            ["client", "-c", Fmt.I(Subscribers), "-s", Fmt.I(Size), "-d", Fmt.I(Window), "-t", Fmt.Arg(ctx.Settings.Seconds), "-w", Fmt.Arg(ctx.Settings.Warmup)],
            Size);
        r.Server = server;          // reported under the catalog's server, as every other workload's runs
        r.Load = ctx.Load;
        return r;
    }

    public override string ProgressText(RunResult r) =>
        $"{Fmt.N0(r[Metric.MsgsPerSec]),10} deliv/s {Fmt.UsPerMsg(r[Metric.ServerUsPerMsg]),5} us/deliv";

    public static readonly WorkloadGroup FanoutGroup = new()
    {
        Name = "fanout",
        Order = 5,
        Heading = "Pub/sub fan-out: 1 publisher x 50 subscribers (LoopStream server, both models)",
        Legend = "deliv/s: messages delivered to subscribers per second (median); us/deliv: server CPU time per delivery",
        Explanation =
            "tools/LinuxEvent.FanoutBench: each published 64-byte line is written to each of 50 subscribers with one " +
            "`WriteMessage`; the publisher keeps 256 messages ahead of the slowest subscriber and every delivered byte is " +
            "checked. `deliv/s`: median deliveries per second; `srv µs/deliv`: server CPU time (user+system) per delivery.",
        RatioMetrics = [],
        ChartPanels =
        [
            new("deliveries/s", Metric.MsgsPerSec, true, ""),
            new("server CPU per delivery", Metric.ServerUsPerMsg, false, "us"),
        ],
        Columns =
        [
            new("wl", "workload", 6, c => c.Row.Workload.Name, Left: true),
            new("server", "server", 19, c => c.Row.Server.Short, Left: true),
            new("deliv/s", "deliveries/s median", 10, c => Fmt.N0(c.Row.Median(Metric.MsgsPerSec))),
            new("", "min..max", 0, c => $"{Fmt.N0(c.Row.Min(Metric.MsgsPerSec))}..{Fmt.N0(c.Row.Max(Metric.MsgsPerSec))}"),
            new("us/dlv", "srv µs/deliv", 6, c => Fmt.UsPerMsg(c.Row.Median(Metric.ServerUsPerMsg))),
            new("srv%", "srv CPU %", 5, c => Fmt.F(c.Row.Median(Metric.ServerCpu), "0")),
            new("", "load CPU %", 0, c => Fmt.F(c.Row.Median(Metric.ClientCpu), "0")),
            new("runs", "", 4, c => c.Row.RunsShort),
            new("", "runs", 0, c => c.Row.RunsLong, Left: true),
        ],
    };
}
