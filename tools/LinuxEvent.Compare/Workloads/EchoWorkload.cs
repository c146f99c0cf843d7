namespace LinuxEvent.Compare;

/// <summary>
/// Closed-loop echo: CONNS connections each keep DEPTH messages of SIZE bytes in flight (a new message as soon as
/// one comes back), every echoed byte verified. Shapes a, b and c are the standard comparison; d is the proactor
/// against the reactor at scale (500 connections).
/// </summary>
internal abstract class EchoWorkload(string name, int conns, int size, int depth, int order) : Workload
{
    public override string Name => name;
    public override int Order => order;
    public int Conns => conns;
    public int Size => size;
    public int Depth => depth;

    public override string Title => $"{name}: {conns} conns x {(size >= 1024 ? $"{size / 1024} KiB" : $"{size} B")}, depth {depth}";

    public override WorkloadGroup Group => EchoGroup;

    public override IReadOnlyDictionary<string, string> Parameters => new Dictionary<string, string>
    {
        ["mode"] = "closed", ["conns"] = Fmt.I(conns), ["size"] = Fmt.I(size), ["depth"] = Fmt.I(depth),
    };

    public override double EstimateSeconds(Settings s) => s.Warmup + s.Seconds + 0.6 + conns / 1000.0;

    public override RunResult Run(RunContext ctx, ServerSpec server, int rep) =>
        ctx.Runner.RunLoad(this, server, ctx.Load, rep,
            ["-c", Fmt.I(conns), "-s", Fmt.I(size), "-d", Fmt.I(depth), "-t", Fmt.Arg(ctx.Settings.Seconds), "-w", Fmt.Arg(ctx.Settings.Warmup)],
            size);

    public override string ProgressText(RunResult r) =>
        $"{Fmt.N0(r[Metric.MsgsPerSec]),10} msgs/s {Fmt.UsPerMsg(r[Metric.ServerUsPerMsg]),5} us/msg p99 {Fmt.Micros(r[Metric.P99])} us";

    /// <summary>Shape a: 50 connections x 64 B, depth 1 (also the peak that the latency runs take fractions of).</summary>
    public sealed class A() : EchoWorkload("a", 50, 64, 1, 1);

    /// <summary>Shape b: 50 connections x 64 B, depth 16 (pipelined: many messages per system call).</summary>
    public sealed class B() : EchoWorkload("b", 50, 64, 16, 2);

    /// <summary>Shape c: 10 connections x 16 KiB, depth 4 (bulk: copying dominates).</summary>
    public sealed class C() : EchoWorkload("c", 10, 16384, 4, 3);

    /// <summary>Shape d: 500 connections x 64 B, depth 1 (the proactor against the reactor at scale).</summary>
    public sealed class D() : EchoWorkload("d", 500, 64, 1, 4);

    public static readonly WorkloadGroup EchoGroup = new()
    {
        Name = "echo",
        Order = 1,
        Heading = "Echo, closed loop (ratios: this server / C epoll, C liburing, .NET Sockets)",
        Legend = "msgs/s: median; us/msg: server CPU time per message (user+sys, all threads; the fair figure when both " +
                 "sides saturate a CPU); /x: ratio to server x; p99us: p99 latency (us)",
        Explanation =
            "Closed loop: each connection keeps `depth` messages in flight and sends the next as soon as one is back; every " +
            "echoed byte is checked. `msgs/s`: median over the used runs (min..max beside it); `srv µs/msg`: server CPU time " +
            "(user+system, all its threads, from /proc/PID/stat over the measured window) per message, the fair figure when " +
            "both sides saturate their CPU; ratios are this server's median over the baseline's, same workload.",
        RatioMetrics = [Metric.MsgsPerSec, Metric.ServerUsPerMsg],
        ChartPanels =
        [
            new("msgs/s", Metric.MsgsPerSec, true, ""),
            new("server CPU per message", Metric.ServerUsPerMsg, false, "us"),
        ],
        Columns =
        [
            new("wl", "workload", 2, c => c.Row.Workload.Name, Left: true),
            new("server", "server", 19, c => c.Row.Server.Short, Left: true),
            new("msgs/s", "msgs/s median", 10, c => Fmt.N0(c.Row.Median(Metric.MsgsPerSec))),
            new("", "min..max", 0, c => $"{Fmt.N0(c.Row.Min(Metric.MsgsPerSec))}..{Fmt.N0(c.Row.Max(Metric.MsgsPerSec))}"),
            new("/epoll", "msgs/s ÷ C epoll", 6, c => Fmt.Ratio(c, "epoll", Metric.MsgsPerSec)),
            new("/uring", "msgs/s ÷ C liburing", 6, c => Fmt.Ratio(c, "uring", Metric.MsgsPerSec)),
            new("/.NET", "msgs/s ÷ .NET Sockets", 6, c => Fmt.Ratio(c, "sockets", Metric.MsgsPerSec)),
            new("us/msg", "srv µs/msg", 6, c => Fmt.UsPerMsg(c.Row.Median(Metric.ServerUsPerMsg))),
            new("/epoll", "µs/msg ÷ C epoll", 6, c => Fmt.Ratio(c, "epoll", Metric.ServerUsPerMsg)),
            new("/uring", "µs/msg ÷ C liburing", 6, c => Fmt.Ratio(c, "uring", Metric.ServerUsPerMsg)),
            new("/.NET", "µs/msg ÷ .NET Sockets", 6, c => Fmt.Ratio(c, "sockets", Metric.ServerUsPerMsg)),
            new("", "p50 µs", 0, c => Fmt.Micros(c.Row.Median(Metric.P50))),
            new("p99us", "p99 µs", 7, c => Fmt.Micros(c.Row.Median(Metric.P99))),
            new("", "srv CPU %", 0, c => Fmt.F(c.Row.Median(Metric.ServerCpu), "0")),
            new("", "load CPU %", 0, c => Fmt.F(c.Row.Median(Metric.ClientCpu), "0")),
            new("", "srv alloc B/msg (gen0)", 0, c => c.Row.Median(Metric.AllocPerMsg) is var a && double.IsNaN(a)
                ? Fmt.None : $"{Fmt.F(a, a < 0.01 ? "0.0000" : "0.00")} ({Fmt.N0(c.Row.Good.Sum(r => r.Has(Metric.Gen0) ? r[Metric.Gen0] : 0))} gen0)"),
            new("runs", "", 4, c => c.Row.RunsShort),
            new("", "runs", 0, c => c.Row.RunsLong, Left: true),
        ],
    };
}
