using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace LinuxEvent.Compare;

/// <summary>Aggregate of the runs of one (load, shape, server).</summary>
internal sealed class Summary
{
    public required LoadSpec Load;
    public required Shape Shape;
    public required ServerSpec Server;
    public List<RunResult> Runs = [];
    /// <summary>The runs the medians use: the clean ones when there are any, else every successful (noisy) one.</summary>
    public IEnumerable<RunResult> Good => Runs.Any(r => r.Ok && r.Flag == "ok") ? Runs.Where(r => r.Ok && r.Flag == "ok") : Runs.Where(r => r.Ok);
    public int OkCount => Runs.Count(r => r.Ok);
    public int Noisy => Runs.Count(r => r.Ok && r.Flag == "noisy");
    public int FailedCount => Runs.Count(r => !r.Ok);
    public bool HasData => OkCount > 0;

    public double Msgs => Median(Good.Select(r => r.MsgsPerSec));
    public double MsgsMin => Good.Select(r => r.MsgsPerSec).DefaultIfEmpty().Min();
    public double MsgsMax => Good.Select(r => r.MsgsPerSec).DefaultIfEmpty().Max();
    public double P50 => Median(Good.Select(r => r.P50));
    public double P99 => Median(Good.Select(r => r.P99));
    public double SrvCpu => Median(Good.Select(r => r.ServerCpuPct));
    public double CliCpu => Median(Good.Select(r => r.ClientCpu));
    public double UsPerMsg => Median(Good.Select(r => r.ServerUsPerMsg));
    public double? Alloc => Good.Any(r => r.AllocBytesPerMsg.HasValue) ? Median(Good.Where(r => r.AllocBytesPerMsg.HasValue).Select(r => r.AllocBytesPerMsg!.Value)) : null;
    public long? Gen0 => Good.Any(r => r.Gen0InWindow.HasValue) ? Good.Sum(r => r.Gen0InWindow ?? 0) : null;
    public string? FirstError => Runs.FirstOrDefault(r => !r.Ok)?.Error;

    public static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        if (a.Length == 0) return 0;
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}

internal static class Compare
{
    public static int Run(Settings s)
    {
        if (s.Reps < 1 || s.Seconds <= 0 || s.Seconds > 600 || s.Warmup < 0 || s.Warmup > 600)
            throw new UsageException("need --reps ≥ 1, 0 < --seconds ≤ 600, 0 ≤ --warmup ≤ 600");
        string repo = ServerCatalog.FindRepo(s.Repo);
        if (s.FromRaw is not null) return FromRaw(s, repo);
        var notes = new List<string>();
        var shapes = ParseShapes(s.Shapes);
        var servers = ServerCatalog.Resolve(s, repo, notes);
        var loads = ServerCatalog.ResolveLoads(s, repo, notes);
        var runnable = servers.Where(x => x.Missing is null).ToList();
        if (runnable.Count == 0) throw new UsageException("no server to run: " + string.Join("; ", notes));

        string outDir = s.Out ?? Path.Combine(repo, "artifacts", "bench", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(outDir);
        using var raw = new StreamWriter(Path.Combine(outDir, "raw.log"));
        raw.WriteLine($"# command: {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))} | reps={s.Reps} seconds={s.Seconds} warmup={s.Warmup} retries={s.Retries} | {MachineDescription()}");
        var runner = new Runner(s, raw);
        if (s.Pin == "none") notes.Add("--pin none: server and load generator are NOT pinned (the scheduler places them; server CPU % may exceed 100 for multi-loop servers)");
        else if (!runner.Pinning) notes.Add("taskset not found: processes are NOT pinned to CPUs");
        if (Environment.ProcessorCount < 2) notes.Add("only 1 CPU: server and load share CPU 0");

        if (Console.IsOutputRedirected)
        {
            // A log file gets plain text, wide enough for the table.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(Console.Out) });
            AnsiConsole.Profile.Width = 260;
        }
        int total = shapes.Count * s.Reps * runnable.Count * loads.Count;
        double estimate = total * (s.Seconds + s.Warmup + 0.8 + (s.QuietWait >= 5 ? 0.5 : 0.2));
        AnsiConsole.MarkupLine($"[bold]LinuxEvent echo comparison[/]: {total} runs ({shapes.Count} shapes × {s.Reps} reps × {runnable.Count} servers × {loads.Count} load generator(s)), " +
                               $"{s.Seconds:0.##} s + {s.Warmup:0.##} s warm-up each, ≈{estimate:F0} s; {(s.Pin == "none" ? "server and load NOT pinned" : $"server on CPU {runner.ServerCpu}, load on CPU {runner.LoadCpu}")}");
        AnsiConsole.MarkupLine($"servers: {Markup.Escape(string.Join(", ", runnable.Select(x => x.Display)))}; load: {Markup.Escape(string.Join(", ", loads.Select(l => l.Name)))}");
        foreach (var n in notes) AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(n)}");

        var summaries = new List<Summary>();
        foreach (var load in loads)
            foreach (var shape in shapes)
                foreach (var server in runnable)
                    summaries.Add(new Summary { Load = load, Shape = shape, Server = server });

        int done = 0;
        var started = DateTime.UtcNow;
        foreach (var shape in shapes)
            for (int rep = 1; rep <= s.Reps; rep++)
                foreach (var server in runnable)          // interleaved: A B C … A B C …
                    foreach (var load in loads)
                    {
                        done++;
                        if (server.Failed is not null) continue;
                        var r = runner.Run(shape, server, load, rep);
                        for (int retry = 0; retry < s.Retries && r.Ok && r.Flag == "noisy"; retry++)
                        {
                            Console.WriteLine($"      noisy (other CPU {r.OtherCpu:F0}%): repeating");
                            r = runner.Run(shape, server, load, rep);
                        }
                        if (r.Warning is not null && !notes.Contains(r.Warning)) notes.Add(r.Warning);
                        summaries.First(x => x.Load == load && x.Shape == shape && x.Server == server).Runs.Add(r);
                        string status = r.Ok
                            ? $"{r.MsgsPerSec,12:N0} msgs/s  p99 {r.P99,8:F0} µs  srv {r.ServerCpuPct,3:F0}% {r.ServerUsPerMsg,6:F2} µs/msg  load {r.ClientCpu,3:F0}%{(r.Flag == "noisy" ? $"  [yellow]noisy (other {r.OtherCpu:F0}%)[/]" : "")}"
                            : $"[red]FAILED[/] {Markup.Escape(r.Error ?? "")}";
                        AnsiConsole.MarkupLine($"[grey][[{done,3}/{total}]][/] {shape.Name} rep {rep} {Markup.Escape(server.Display),-22} {load.Name,-8} {status}");
                    }
        foreach (var srv in runnable.Where(x => x.Failed is not null))
            notes.Add($"{srv.Display}: failed to start, remaining runs skipped — {srv.Failed}");

        var elapsed = DateTime.UtcNow - started;
        var report = new Report(s, shapes, servers, loads, summaries, notes, runner, elapsed, repo);
        report.PrintConsole();
        string md = Path.Combine(outDir, "results.md"), svg = Path.Combine(outDir, "chart.svg");
        File.WriteAllText(md, report.Markdown());
        File.WriteAllText(svg, Chart.Svg(report));
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(md)}[/], [bold]{Markup.Escape(svg)}[/], {Markup.Escape(Path.Combine(outDir, "raw.log"))}");
        bool anyFailed = summaries.Any(x => x.FailedCount > 0) || runnable.Any(x => x.Failed is not null);
        return anyFailed ? 1 : 0;
    }

    /// <summary>Rebuilds the summaries from a raw.log (the last attempt of each run counts) and writes the report again.</summary>
    private static int FromRaw(Settings s, string repo)
    {
        string path = Path.GetFullPath(s.FromRaw!);
        if (!File.Exists(path)) throw new UsageException($"--from-raw: {path} not found");
        var lines = File.ReadAllLines(path).Where(l => l.StartsWith("shape=", StringComparison.Ordinal)).Select(Runner.ParseKv).ToList();
        if (lines.Count == 0) throw new UsageException($"--from-raw: no run lines in {path}");
        var notes = new List<string>();
        var servers = ServerCatalog.Resolve(new Settings { Servers = string.Join(',', lines.Select(l => l["server"]).Distinct()) }, repo, []);
        foreach (var sv in servers) sv.Missing = null;               // they ran then; presence now does not matter
        var loads = lines.Select(l => l["load"]).Distinct().Select(n => new LoadSpec { Name = n, Executable = n }).ToList();
        var shapes = Shape.All.Where(sh => lines.Any(l => l["shape"] == sh.Name)).ToList();
        double D(Dictionary<string, string> kv, string k) => kv.TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;
        var last = new Dictionary<(string, string, string, string), Dictionary<string, string>>();
        foreach (var kv in lines) last[(kv["shape"], kv["server"], kv["load"], kv["rep"])] = kv;
        var summaries = new List<Summary>();
        foreach (var load in loads)
            foreach (var shape in shapes)
                foreach (var server in servers)
                {
                    var sum = new Summary { Load = load, Shape = shape, Server = server };
                    foreach (var kv in last.Values.Where(k => k["shape"] == shape.Name && k["server"] == server.Name && k["load"] == load.Name).OrderBy(k => k["rep"]))
                    {
                        sum.Runs.Add(new RunResult
                        {
                            Shape = shape, Server = server, Load = load, Rep = (int)D(kv, "rep"), Flag = kv["flag"], Ok = kv["flag"] != "FAILED",
                            MsgsPerSec = D(kv, "msgs_per_s"), P50 = D(kv, "p50_us"), P99 = D(kv, "p99_us"), P999 = D(kv, "p999_us"), Max = D(kv, "max_us"),
                            ClientCpu = D(kv, "cli_cpu"), ServerCpuPct = D(kv, "srv_cpu"), ServerUsPerMsg = D(kv, "srv_us_per_msg"),
                            Cpu0Busy = D(kv, "cpu0_busy"), Cpu1Busy = D(kv, "cpu1_busy"), OtherCpu = D(kv, "other_cpu"),
                            AllocBytesPerMsg = kv.ContainsKey("srv_alloc_b_per_msg") ? D(kv, "srv_alloc_b_per_msg") : null,
                            Gen0InWindow = kv.ContainsKey("srv_gen0") ? (long)D(kv, "srv_gen0") : null,
                            Error = kv.GetValueOrDefault("error"),
                        });
                    }
                    summaries.Add(sum);
                }
        var reps = summaries.Max(x => x.Runs.Count);
        var header = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("# command:", StringComparison.Ordinal));
        double H(string k) => header is not null && Runner.ParseKv(header.Replace('|', ' ')).TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
        var settings = new Settings { Reps = reps, Seconds = double.IsNaN(H("seconds")) ? D(lines[0], "secs") : H("seconds"), Warmup = H("warmup"), Retries = double.IsNaN(H("retries")) ? s.Retries : (int)H("retries") };
        notes.Add($"re-rendered from {path}" + (header is not null ? $" ({header.TrimStart('#', ' ')})" : ""));
        var report = new Report(settings, shapes, servers, loads, summaries, notes, new Runner(settings, TextWriter.Null), TimeSpan.Zero, repo);
        report.PrintConsole();
        string dir = Path.GetDirectoryName(path)!;
        File.WriteAllText(Path.Combine(dir, "results.md"), report.Markdown());
        File.WriteAllText(Path.Combine(dir, "chart.svg"), Chart.Svg(report));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.Combine(dir, "results.md"))}, {Markup.Escape(Path.Combine(dir, "chart.svg"))}");
        return 0;
    }

    private static List<Shape> ParseShapes(string spec)
    {
        var list = new List<Shape>();
        foreach (var n in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var sh = Shape.All.FirstOrDefault(x => x.Name == n) ?? throw new UsageException($"--shapes: unknown shape '{n}' (a, b, c, d)");
            if (!list.Contains(sh)) list.Add(sh);
        }
        if (list.Count == 0) throw new UsageException("--shapes: none given");
        return list;
    }

    public static string MachineDescription()
    {
        string cpu = "?";
        try { cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"; }
        catch (IOException) { }
        string kernel = "?";
        try { kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); } catch (IOException) { }
        string os = "?";
        try { os = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "?"; }
        catch (IOException) { }
        return $"{Environment.ProcessorCount} CPUs ({cpu}), kernel {kernel}, {os}, {RuntimeInformation.FrameworkDescription}";
    }
}
