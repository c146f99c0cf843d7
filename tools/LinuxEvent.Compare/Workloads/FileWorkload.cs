using System.Globalization;

namespace LinuxEvent.Compare;

/// <summary>
/// File random reads (issue 12's workload d): 4 KiB reads at queue depth 32 on one file, by tools/LinuxEvent.FileBench,
/// pinned to the load CPU. The servers map to engines: our reactor (its file worker pool) and proactor (io_uring reads),
/// C liburing's column is fio's io_uring engine (the C peer of file I/O), .NET Sockets' column is .NET
/// <c>RandomAccess.ReadAsync</c> at the same depth (the .NET peer). C epoll has no file story (epoll cannot wait on a
/// regular file) and is skipped. Two variants: O_DIRECT (the device) and buffered after one full read (the page cache,
/// where CPU per I/O is the figure).
/// </summary>
internal abstract class FileWorkload(string name, bool direct, int order) : Workload
{
    private const int BlockSize = 4096, Depth = 32;

    public const string Iops = "iops", CpuPerIo = "cpu_us_per_io";

    public override string Name => name;
    public override int Order => order;
    public override WorkloadGroup Group => FileGroup;

    public override string Title => $"{name}: 4 KiB random reads, depth {Depth}, {(direct ? "O_DIRECT" : "page cache")}, one file";

    public override bool AppliesTo(ServerSpec server) => Engine(server) is not null;

    public override IReadOnlyDictionary<string, string> Parameters => new Dictionary<string, string>
    {
        ["bs"] = Fmt.I(BlockSize), ["depth"] = Fmt.I(Depth), ["direct"] = direct ? "1" : "0", ["tool"] = "tools/LinuxEvent.FileBench",
    };

    // --quick reads for half its usual window: four file runs must fit in the quick run's 90 s beside the echo rows.
    private static double Secs(Settings s) => s.Quick ? s.Seconds / 2 : s.Seconds;
    private static double Warm(Settings s) => s.Quick ? s.Warmup / 2 : s.Warmup;

    public override double EstimateSeconds(Settings s) => Warm(s) + Secs(s) + 0.8;

    /// <summary>The FileBench engine standing in for <paramref name="server"/> (null: no file workload for it).</summary>
    private static string? Engine(ServerSpec server) => server.Name switch
    {
        "reactor" or "reactor-b" => "reactor",
        "proactor" or "proactor-b" => "proactor",
        "uring" => "fio",
        "sockets" => "randomaccess",
        _ => null,
    };

    public override RunResult Run(RunContext ctx, ServerSpec server, int rep)
    {
        var r = new RunResult { Workload = this, Server = server, Load = ctx.Load, Rep = rep };
        string repo = ServerCatalog.FindRepo(ctx.Settings.Repo);
        string tool = Path.Combine(repo, "artifacts", "bin", "filebench", "LinuxEvent.FileBench");
        if (!File.Exists(tool)) return Runner.Fail(r, $"{tool} not found (ci/bench.sh publishes it)");
        // --quick uses a smaller file: it still exceeds what O_DIRECT could be served from, and it is made in seconds.
        string size = ctx.Settings.Quick ? "256m" : "1g";
        string file = Path.Combine(repo, "artifacts", "bench", $"filebench-{size}.dat");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        bool quiet = Runner.WaitQuiet(ctx.Settings.QuietWait);
        string[] args =
        [
            "--file", file, "--create", "--size", size, "--bs", "4k", "--depth", Fmt.I(Depth), direct ? "--direct" : "--buffered",
            "--engine", Engine(server)!, "--seconds", Fmt.Arg(Secs(ctx.Settings)), "--warmup", Fmt.Arg(Warm(ctx.Settings)),
        ];
        using var bench = ctx.Runner.StartPinned(tool, args);
        r.LoadCommand = bench.CommandLine;
        if (!bench.WaitForExit(TimeSpan.FromSeconds(ctx.Settings.Warmup + ctx.Settings.Seconds + 120)))
        {
            bench.Stop(TimeSpan.FromSeconds(2));
            return Runner.Fail(r, "FileBench did not finish in time");
        }
        bench.Process.WaitForExit();        // the untimed wait also drains the redirected output readers
        var line = bench.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("filebench: engine=", StringComparison.Ordinal));
        if (bench.Process.ExitCode != 0 || line is null)
            return Runner.Fail(r, $"FileBench exit code {bench.Process.ExitCode}: {bench.StderrTail()}");
        r.LoadLine = line.Trim();
        foreach (var (key, value) in RawLog.ParseKv(line))
            if (key is Iops or CpuPerIo && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                r.Metrics[key] = v;
        if (!r.Has(Iops)) return Runner.Fail(r, "FileBench printed no iops: " + line);
        r.Ok = true;
        r.Flag = quiet ? "ok" : "noisy";
        return r;
    }

    public override string ProgressText(RunResult r) =>
        $"{Fmt.N0(r[Iops]),8} IOPS {Fmt.F(r[CpuPerIo], "0.00")} us CPU/IO";

    /// <summary>O_DIRECT: what the device serves, and what each engine costs per I/O on the way.</summary>
    public sealed class Direct() : FileWorkload("file", true, 1);

    /// <summary>From the page cache: no device time, so CPU per I/O is the whole story. Not in the default set (it keeps
    /// --quick within its 90 s); run it with <c>--workloads filecache</c> or <c>all</c>.</summary>
    public sealed class Cached() : FileWorkload("filecache", false, 2)
    {
        public override bool InDefaultSet => false;
    }

    public static readonly WorkloadGroup FileGroup = new()
    {
        Name = "file",
        Order = 5,
        Heading = "File random reads, 4 KiB at depth 32 (C liburing = fio io_uring, .NET = RandomAccess)",
        Legend = "IOPS; us/IO: CPU (user+sys, all threads) per read; /fio, /.NET: IOPS ratio to fio's io_uring engine " +
                 "and to .NET RandomAccess.ReadAsync; cpu/fio: CPU per I/O ratio to fio",
        Explanation =
            "tools/LinuxEvent.FileBench reads one file at random 4 KiB offsets with 32 reads in flight, pinned to the load CPU: " +
            "our proactor with io_uring reads, our reactor through its bounded file worker pool (epoll cannot wait on a " +
            "regular file), fio 3's io_uring engine in the C liburing row, and .NET `RandomAccess.ReadAsync` in the .NET " +
            "Sockets row. `file` opens the file O_DIRECT (device-bound); `filecache` reads it buffered after caching it " +
            "(CPU-bound: CPU per I/O is the figure). C epoll has no file row.",
        RatioMetrics = [Iops, CpuPerIo],
        ChartPanels = [new("file reads IOPS", Iops, true, "IOPS")],
        Columns =
        [
            new("wl", "workload", 9, c => c.Row.Workload.Name, Left: true),
            new("engine", "server (engine)", 19, c => c.Row.Server.Short, Left: true),
            new("IOPS", "IOPS", 9, c => Fmt.N0(c.Row.Median(Iops))),
            new("us/IO", "CPU µs/IO", 6, c => Fmt.F(c.Row.Median(CpuPerIo), "0.00")),
            new("/fio", "IOPS ÷ fio io_uring", 5, c => Fmt.Ratio(c, "uring", Iops)),
            new("cpu/fio", "CPU/IO ÷ fio", 7, c => Fmt.Ratio(c, "uring", CpuPerIo)),
            new("/.NET", "IOPS ÷ RandomAccess", 5, c => Fmt.Ratio(c, "sockets", Iops)),
            new("runs", "", 4, c => c.Row.RunsShort),
            new("", "runs", 0, c => c.Row.RunsLong, Left: true),
        ],
    };
}
