using System.Diagnostics;
using System.Globalization;

namespace LinuxEvent.Compare;

/// <summary>
/// The comparison: selects workloads, servers and load generators; runs every (workload, rep, server, load) with the
/// servers interleaved (A B C ... A B C ...) and a progress line; prints the terminal summary and writes results.md,
/// chart.svg, results.json and raw.log to the results directory. <c>--from-raw</c> re-renders an earlier run instead.
/// </summary>
internal static class Compare
{
    public static int Run(Settings s)
    {
        if (s.Reps < 1 || s.Seconds <= 0 || s.Seconds > 600 || s.Warmup < 0 || s.Warmup > 600 || s.QuietWait < 0 || s.Retries < 0)
            throw new UsageException("need --reps >= 1, 0 < --seconds <= 600, 0 <= --warmup <= 600, --quiet-wait >= 0, --retries >= 0");
        if (s.Pin is not ("split" or "none")) throw new UsageException($"--pin: unknown '{s.Pin}' (split|none)");
        string repo = ServerCatalog.FindRepo(s.Repo);
        if (s.FromRaw is not null) return Rerender(s, repo);

        var notes = new List<string>();
        var workloads = WorkloadRegistry.Select(s.Workloads, notes, s.Quick);
        var servers = ServerCatalog.Resolve(s, repo, notes);
        var loads = ServerCatalog.ResolveLoads(s, repo, notes);
        var runnable = servers.Where(x => x.Missing is null).ToList();
        if (runnable.Count == 0) throw new UsageException("no server to run: " + string.Join("; ", notes));

        var started = DateTime.Now;
        string outDir = Path.GetFullPath(s.Out ?? Path.Combine(repo, "artifacts", "bench", started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(outDir);
        var machine = MachineInfo.Read();
        string command = CommandLine(s);
        using var raw = new StreamWriter(Path.Combine(outDir, "raw.log"));
        raw.WriteLine($"# command: {command} | reps={s.Reps} seconds={Fmt.Arg(s.Seconds)} warmup={Fmt.Arg(s.Warmup)} retries={s.Retries} | {machine.Describe()}");
        var runner = new Runner(s, raw);
        if (s.Pin == "none") notes.Add("--pin none: server and load generator are NOT pinned (server CPU % may exceed 100 for multi-loop servers)");
        else if (!runner.Pinning) notes.Add("taskset not found: processes are NOT pinned to CPUs");
        if (Environment.ProcessorCount < 2) notes.Add("only 1 CPU: server and load generator share CPU 0");

        var plan = (from w in workloads from rep in Enumerable.Range(1, s.Reps) from srv in runnable where w.AppliesTo(srv) from load in loads
                    select (w, rep, srv, load)).ToList();
        var summaries = (from load in loads from w in workloads from srv in runnable where w.AppliesTo(srv)
                         select new Summary { Load = load, Workload = w, Server = srv }).ToList();
        double estimate = plan.Sum(p => p.w.EstimateSeconds(s) + (s.QuietWait >= 5 ? 0.5 : 0.15));

        var o = Console.Out;
        bool tty = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");
        string reps = s.Reps == 1 ? "1 rep" : $"{s.Reps} reps", gens = loads.Count > 1 ? $" x {loads.Count} load generators" : "";
        var (srvCpu, ldCpu) = runner.Pinning ? ($"CPU {runner.ServerCpu}", $"CPU {runner.LoadCpu}") : ("not pinned", "not pinned");
        foreach (var line in new[]
                 {
                     $"LinuxEvent echo comparison: {plan.Count} runs ({workloads.Count} workloads x {runnable.Count} servers x {reps}{gens}), about {estimate:F0} s",
                     $"servers ({srvCpu}): {string.Join(", ", runnable.Select(x => x.Short))}",
                     $"load ({ldCpu}): {string.Join(", ", loads.Select(l => l.Display))}; workloads: {string.Join(" ", workloads.Select(w => w.Name))}",
                     $"results: {Relative(outDir)}/",
                 }.SelectMany(l => Text.Wrap(Text.Ascii(l))))
            o.WriteLine(line);
        foreach (var n in notes) foreach (var line in Text.Wrap(Text.Ascii("note: " + n), 6)) o.WriteLine(line);

        Console.CancelKeyPress += (_, _) => Spawned.StopAll();     // Ctrl-C: stop what this tool started, then exit
        var clock = Stopwatch.StartNew();
        var progress = new Progress(plan.Count, estimate, o, tty);
        Summary? Find(string workload, ServerSpec server, LoadSpec load) =>
            summaries.FirstOrDefault(x => x.Workload.Name == workload && x.Server == server && x.Load == load && x.HasData);
        foreach (var (w, rep, server, load) in plan)
        {
            progress.Starting(w, server, rep);
            if (server.Failed is not null) continue;                // could not start earlier: its later runs are skipped
            var ctx = new RunContext(s, runner, load, Find);
            var r = w.Run(ctx, server, rep);
            runner.Log(r);
            for (int retry = 0; retry < s.Retries && r.Ok && r.Flag == "noisy"; retry++)
            {
                progress.Persist($"      {w.Name} {server.Short}: noisy (other CPU {Fmt.F(r[Metric.OtherCpu], "0")}%), repeating");
                r = w.Run(ctx, server, rep);
                runner.Log(r);
            }
            if (r.Warning is not null && !notes.Contains(r.Warning)) notes.Add(r.Warning);
            summaries.First(x => x.Load == load && x.Workload == w && x.Server == server).Runs.Add(r);
            progress.Finished(r);
        }
        progress.Clear();
        foreach (var srv in runnable.Where(x => x.Failed is not null))
            notes.Add($"{srv.Display}: failed to start, its remaining runs were skipped: {srv.Failed}");

        var results = new Results
        {
            Settings = s, Workloads = workloads, Servers = servers, Loads = loads, Summaries = summaries, Notes = notes, Machine = machine,
            Command = command, Started = started, Elapsed = clock.Elapsed, Pinning = runner.Pinning, ServerCpu = runner.ServerCpu, LoadCpu = runner.LoadCpu,
        };
        ConsoleReport.Print(results, o);
        WriteReports(results, outDir, o);
        bool anyFailed = summaries.Any(x => x.FailedCount > 0 || x.Runs.Count == 0) || runnable.Any(x => x.Failed is not null);
        return anyFailed ? 1 : 0;
    }

    private static void WriteReports(Results results, string dir, TextWriter o)
    {
        File.WriteAllText(Path.Combine(dir, "results.md"), MarkdownReport.Render(results));
        File.WriteAllText(Path.Combine(dir, "chart.svg"), Chart.Svg(results));
        File.WriteAllText(Path.Combine(dir, "results.json"), JsonReport.Render(results));
        o.WriteLine();
        foreach (var line in Text.Wrap($"reports: {Relative(dir)}/ results.md chart.svg results.json raw.log")) o.WriteLine(line);
    }

    /// <summary><paramref name="path"/> relative to the working directory when it lies under it.</summary>
    private static string Relative(string path)
    {
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }

    /// <summary>The command a person typed (ci/bench.sh exports it), else this tool's own command line.</summary>
    private static string CommandLine(Settings s)
    {
        string own = ("LinuxEvent.Compare " + string.Join(' ', s.Argv.Select(a => a.Contains(' ') ? $"'{a}'" : a))).Trim();
        string? outer = Environment.GetEnvironmentVariable("LINUXEVENT_BENCH_COMMAND");
        return string.IsNullOrWhiteSpace(outer) ? own : $"{outer.Trim()} (runs {own})";
    }

    /// <summary>Rebuilds the summaries from a raw.log (the last attempt of each run counts) and writes the reports again,
    /// next to it.</summary>
    private static int Rerender(Settings s, string repo)
    {
        string path = Path.GetFullPath(s.FromRaw!);
        if (!File.Exists(path)) throw new UsageException($"--from-raw: {path} not found");
        var servers = new List<ServerSpec>();
        var loads = new List<LoadSpec>();
        ServerSpec Server(string n) => servers.FirstOrDefault(x => x.Name == n) ?? Add(servers, ServerCatalog.ForRaw(n, s, repo));
        LoadSpec Load(string n) => loads.FirstOrDefault(x => x.Name == n) ?? Add(loads, new LoadSpec { Name = n, Display = n, Executable = n });
        var runs = RawLog.Read(path, Server, Load);
        if (runs.Count == 0) throw new UsageException($"--from-raw: no run lines in {path}");
        var workloads = WorkloadRegistry.All.Where(w => runs.Any(r => r.Workload == w)).ToList();
        var summaries = (from load in loads from w in workloads from srv in servers
                         select new Summary { Load = load, Workload = w, Server = srv, Runs = runs.Where(r => r.Load == load && r.Workload == w && r.Server == srv).OrderBy(r => r.Rep).ToList() })
                        .Where(x => x.Runs.Count > 0).ToList();
        string? header = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("# command:", StringComparison.Ordinal));
        var hk = header is null ? [] : RawLog.ParseKv(header.Replace('|', ' '));
        double H(string k, double fallback) => hk.TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : fallback;
        var settings = new Settings
        {
            Reps = summaries.Max(x => x.Runs.Count), Seconds = H("seconds", double.NaN), Warmup = H("warmup", double.NaN), Retries = (int)H("retries", 0),
            QuietWait = double.NaN, Argv = s.Argv,
        };
        var parts = header?.Split('|') ?? [];
        var machine = new MachineInfo { Recorded = parts.Length >= 3 ? parts[^1].Trim() : "(not recorded)" };
        var results = new Results
        {
            Settings = settings, Workloads = workloads, Servers = servers, Loads = loads, Summaries = summaries,
            Notes = [$"re-rendered from {path}"],
            Machine = machine, Command = parts.Length > 0 ? parts[0].Replace("# command:", "", StringComparison.Ordinal).Trim() : "?",
            Started = File.GetLastWriteTime(path), Elapsed = TimeSpan.Zero, Pinning = true, ServerCpu = 0, LoadCpu = 1,
        };
        ConsoleReport.Print(results, Console.Out);
        WriteReports(results, Path.GetDirectoryName(path)!, Console.Out);
        return 0;
    }

    private static T Add<T>(List<T> list, T item)
    {
        list.Add(item);
        return item;
    }
}
