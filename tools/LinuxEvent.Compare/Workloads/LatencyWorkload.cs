namespace LinuxEvent.Compare;

/// <summary>
/// Open-loop latency: 50 connections x 64 B at a fixed total rate, a fraction (50%, 90%) of the server's own peak
/// measured by shape a in the same run. Messages are sent on schedule whatever the server does, and latency is
/// counted from each message's scheduled send time, so a stall delays every message scheduled during it and shows
/// in the tail instead of silently lowering the offered rate (no coordinated omission).
/// </summary>
internal abstract class LatencyWorkload(string name, double fraction, int order) : Workload
{
    private const int Conns = 50, Size = 64;

    public override string Name => name;
    public override int Order => order;
    public double Fraction => fraction;

    public override string Title => $"{name}: open loop, {Conns} conns x {Size} B at {fraction * 100:0}% of the server's shape-a peak";

    public override WorkloadGroup Group => LatencyGroup;

    public override IReadOnlyList<string> DependsOn => ["a"];

    public override IReadOnlyDictionary<string, string> Parameters => new Dictionary<string, string>
    {
        ["mode"] = "open", ["conns"] = Fmt.I(Conns), ["size"] = Fmt.I(Size), ["fraction_of_peak"] = Fmt.Arg(fraction), ["peak_from"] = "a",
    };

    public override double EstimateSeconds(Settings s) => s.Warmup + s.Seconds + 0.7;

    public override RunResult Run(RunContext ctx, ServerSpec server, int rep)
    {
        double peak = ctx.Find("a", server)?.Median(Metric.MsgsPerSec) ?? double.NaN;
        if (!(peak > 0))
        {
            return Runner.Fail(new RunResult { Workload = this, Server = server, Load = ctx.Load, Rep = rep },
                "no peak rate: workload a has no result for this server");
        }
        long rate = Math.Max(1, (long)Math.Round(peak * fraction));
        return ctx.Runner.RunLoad(this, server, ctx.Load, rep,
            ["-c", Fmt.I(Conns), "-s", Fmt.I(Size), "-d", "1", "-r", Fmt.I(rate), "-t", Fmt.Arg(ctx.Settings.Seconds), "-w", Fmt.Arg(ctx.Settings.Warmup)],
            Size);
    }

    public override string ProgressText(RunResult r) =>
        $"{Fmt.N0(r[Metric.Rate]),8}/s p50 {Fmt.Micros(r[Metric.P50])} p99 {Fmt.Micros(r[Metric.P99])} max {Fmt.Micros(r[Metric.Max])} us";

    /// <summary>At half the peak: the latency of a server with headroom.</summary>
    public sealed class At50() : LatencyWorkload("lat50", 0.5, 1)
    {
        /// <summary>Not in --quick (its 90 s): the quick run keeps the busier point, lat90.</summary>
        public override bool InQuickSet => false;
    }

    /// <summary>At 90% of the peak: the latency of a busy server, where queueing and stalls show.</summary>
    public sealed class At90() : LatencyWorkload("lat90", 0.9, 2);

    public static readonly WorkloadGroup LatencyGroup = new()
    {
        Name = "latency",
        Order = 2,
        Heading = "Open-loop latency in us, from each message's scheduled send time (p99 ratios: / baseline)",
        Legend = "rate/s: offered rate (the fraction of this server's own shape-a msgs/s); p50..max: latency (us) " +
                 "from the scheduled send time; /x: p99 ratio to server x; us/msg: server CPU per message",
        Explanation =
            "Open loop: messages go out at a fixed total rate (`rate/s`, the given fraction of this server's own shape-a " +
            "median) on 50 connections x 64 B, round robin, whatever the server does; latency runs from each message's " +
            "*scheduled* send time to its full echo, so a stall delays every message scheduled during it (no coordinated " +
            "omission). Percentiles from a log-linear histogram (≤ 0.8% relative error; max exact). `load lag p99` is how " +
            "late the load generator itself noticed messages were due (its own share of the latency); `unfinished` counts " +
            "messages not echoed within 1 s after the window (recorded at the latency they had reached). Ratios compare " +
            "p99 with the baseline's p99 at the same fraction of the baseline's own peak.",
        RatioMetrics = [Metric.P99, Metric.P999, Metric.ServerUsPerMsg],
        ChartPanels = [new("open-loop p99 latency", Metric.P99, false, "us")],
        Columns =
        [
            new("wl", "workload", 5, c => c.Row.Workload.Name, Left: true),
            new("server", "server", 19, c => c.Row.Server.Short, Left: true),
            new("rate/s", "rate/s", 8, c => Fmt.N0(c.Row.Median(Metric.Rate))),
            new("", "msgs/s done", 0, c => Fmt.N0(c.Row.Median(Metric.MsgsPerSec))),
            new("p50", "p50 µs", 7, c => Fmt.Micros(c.Row.Median(Metric.P50))),
            new("p99", "p99 µs", 7, c => Fmt.Micros(c.Row.Median(Metric.P99))),
            new("p99.9", "p99.9 µs", 7, c => Fmt.Micros(c.Row.Median(Metric.P999))),
            new("max", "max µs", 7, c => Fmt.Micros(c.Row.Median(Metric.Max))),
            new("/epoll", "p99 ÷ C epoll", 6, c => Fmt.Ratio(c, "epoll", Metric.P99)),
            new("/uring", "p99 ÷ C liburing", 6, c => Fmt.Ratio(c, "uring", Metric.P99)),
            new("/.NET", "p99 ÷ .NET Sockets", 6, c => Fmt.Ratio(c, "sockets", Metric.P99)),
            new("us/msg", "srv µs/msg", 6, c => Fmt.UsPerMsg(c.Row.Median(Metric.ServerUsPerMsg))),
            new("", "srv CPU %", 0, c => Fmt.F(c.Row.Median(Metric.ServerCpu), "0")),
            new("", "load lag p99 µs", 0, c => Fmt.Micros(c.Row.Median(Metric.LagP99))),
            new("", "unfinished", 0, c => Fmt.N0(c.Row.Good.Sum(r => r.Has(Metric.Unfinished) ? r[Metric.Unfinished] : 0))),
            new("runs", "", 4, c => c.Row.RunsShort),
            new("", "runs", 0, c => c.Row.RunsLong, Left: true),
        ],
    };
}
