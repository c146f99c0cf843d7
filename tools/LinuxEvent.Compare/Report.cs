using System.Globalization;
using System.Text;
using Spectre.Console;

namespace LinuxEvent.Compare;

/// <summary>Turns the summaries into the console table, the Markdown report and the chart's data.</summary>
internal sealed class Report(Settings settings, List<Shape> shapes, List<ServerSpec> servers, List<LoadSpec> loads,
    List<Summary> summaries, List<string> notes, Runner runner, TimeSpan elapsed, string repo)
{
    public List<Shape> Shapes => shapes;
    public List<LoadSpec> Loads => loads;
    public List<ServerSpec> RunServers => servers.Where(x => x.Missing is null).ToList();

    public Summary? Find(LoadSpec load, Shape shape, string server) =>
        summaries.FirstOrDefault(x => x.Load == load && x.Shape == shape && x.Server.Name == server && x.HasData);

    public IEnumerable<Summary> Rows(LoadSpec load, Shape shape) =>
        summaries.Where(x => x.Load == load && x.Shape == shape);

    private static string Ratio(double a, double b) => b > 0 && a > 0 ? (a / b).ToString("0.00", CultureInfo.InvariantCulture) : "–";
    private static string N0(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);

    private string[] Cells(Summary x, bool markdown)
    {
        if (!x.HasData)
            return [x.Shape.Name, x.Server.Display, "FAILED", "", "", "", "", "", "", "", "", "", "", $"0/{x.Runs.Count}: {Trim(x.FirstError)}"];
        var epoll = Find(x.Load, x.Shape, "epoll");
        var sockets = Find(x.Load, x.Shape, "sockets");
        string mbps = x.Shape.Size >= 1024 ? $" ({N0(x.Msgs * x.Shape.Size / 1e6)} MB/s)" : "";
        string alloc = x.Alloc is { } a ? $"{F(a, a < 0.01 ? "0.0000" : "0.00")} ({x.Gen0} gen0)" : "–";
        string runs = $"{x.OkCount - x.Noisy} clean" + (x.Noisy > 0 ? $", {x.Noisy} noisy{(x.OkCount == x.Noisy ? " (used)" : " (not used)")}" : "") + (x.FailedCount > 0 ? $", {x.FailedCount} failed" : "");
        return
        [
            x.Shape.Name, x.Server.Display, N0(x.Msgs) + mbps, $"{N0(x.MsgsMin)}..{N0(x.MsgsMax)}", F(x.P50, "0"), F(x.P99, "0"),
            F(x.SrvCpu, "0"), F(x.CliCpu, "0"), F(x.UsPerMsg, x.UsPerMsg < 1 ? "0.00" : "0.0"),
            epoll is null ? "–" : Ratio(x.Msgs, epoll.Msgs), epoll is null ? "–" : Ratio(x.UsPerMsg, epoll.UsPerMsg),
            sockets is null ? "–" : Ratio(x.Msgs, sockets.Msgs), alloc, runs,
        ];
    }

    private static readonly string[] Headers =
        ["shape", "server", "msgs/s median", "min..max", "p50 µs", "p99 µs", "srv CPU %", "load CPU %", "srv µs/msg",
         "msgs/s ÷ C epoll", "µs/msg ÷ C epoll", "msgs/s ÷ .NET Sockets", "srv alloc B/msg (gen0)", "runs"];

    private static string Trim(string? s) => s is null ? "" : s.Length > 160 ? s[..160] + "…" : s;

    // ---------------------------------------------------------------- ratios (issue 7 targets)

    public sealed record RatioRow(Shape Shape, string PvR, string PvRCpu, string RvE, string RvECpu, string PvU, string PvUCpu, string RvS, string PvS);

    public IEnumerable<RatioRow> Ratios(LoadSpec load)
    {
        foreach (var sh in shapes)
        {
            var re = Find(load, sh, "reactor"); var pr = Find(load, sh, "proactor");
            var ep = Find(load, sh, "epoll"); var ur = Find(load, sh, "uring"); var so = Find(load, sh, "sockets");
            string R(Summary? a, Summary? b, bool cpu) => a is null || b is null ? "–" : cpu ? Ratio(a.UsPerMsg, b.UsPerMsg) : Ratio(a.Msgs, b.Msgs);
            yield return new RatioRow(sh, R(pr, re, false), R(pr, re, true), R(re, ep, false), R(re, ep, true), R(pr, ur, false), R(pr, ur, true), R(re, so, false), R(pr, so, false));
        }
    }

    // ---------------------------------------------------------------- console

    public void PrintConsole()
    {
        foreach (var load in loads)
        {
            var t = new Table().Border(TableBorder.Rounded).Title($"[bold]echo comparison[/] (load generator: {load.Name}; medians of {settings.Reps} rep(s), {settings.Seconds:0.##} s each)");
            // The console drops the min..max column (the Markdown keeps it) to stay readable in a terminal.
            foreach (var h in Headers.Where((_, i) => i != 3)) t.AddColumn(new TableColumn(Markup.Escape(h)));
            foreach (var sh in shapes)
            {
                foreach (var x in Rows(load, sh)) t.AddRow(Cells(x, false).Where((_, i) => i != 3).Select(c => Markup.Escape(c)).ToArray());
                if (sh != shapes[^1]) t.AddEmptyRow();
            }
            AnsiConsole.Write(t);
            var r = new Table().Border(TableBorder.Rounded).Title("ratios (issue 7 targets: reactor ÷ C epoll and proactor ÷ C liburing: msgs/s ≥ 0.95, µs/msg ≤ 1.1; ÷ .NET Sockets msgs/s ≥ 1.8)");
            foreach (var h in RatioHeaders) r.AddColumn(Markup.Escape(h));
            foreach (var row in Ratios(load)) r.AddRow(RatioCells(row).Select(c => Markup.Escape(c)).ToArray());
            AnsiConsole.Write(r);
        }
        if (loads.Count == 2) WriteLoadComparisonConsole();
        foreach (var n in notes) AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(n)}");
    }

    private static readonly string[] RatioHeaders =
        ["shape", "proactor ÷ reactor msgs/s", "proactor ÷ reactor µs/msg", "reactor ÷ C epoll msgs/s", "reactor ÷ C epoll µs/msg",
         "proactor ÷ C liburing msgs/s", "proactor ÷ C liburing µs/msg", "reactor ÷ .NET Sockets msgs/s", "proactor ÷ .NET Sockets msgs/s"];

    private static string[] RatioCells(RatioRow x) => [x.Shape.Name, x.PvR, x.PvRCpu, x.RvE, x.RvECpu, x.PvU, x.PvUCpu, x.RvS, x.PvS];

    private static readonly string[] LoadHeaders =
        ["shape", "server", "echoload msgs/s", "LinuxEvent.Load msgs/s", "ratio", "echoload CPU %", "LinuxEvent.Load CPU %", "p99 µs (echoload / ours)", "srv µs/msg (echoload / ours)"];

    private IEnumerable<string[]> LoadRows()
    {
        var (e, d) = (loads[0], loads[1]);
        foreach (var sh in shapes)
            foreach (var srv in RunServers)
            {
                var a = Find(e, sh, srv.Name); var b = Find(d, sh, srv.Name);
                if (a is null || b is null) continue;
                yield return [sh.Name, srv.Display, N0(a.Msgs), N0(b.Msgs), Ratio(b.Msgs, a.Msgs), F(a.CliCpu, "0"), F(b.CliCpu, "0"),
                              $"{F(a.P99, "0")} / {F(b.P99, "0")}", $"{F(a.UsPerMsg, "0.00")} / {F(b.UsPerMsg, "0.00")}"];
            }
    }

    private void WriteLoadComparisonConsole()
    {
        var t = new Table().Border(TableBorder.Rounded).Title("load generators on the same server (ratio = LinuxEvent.Load ÷ echoload)");
        foreach (var h in LoadHeaders) t.AddColumn(Markup.Escape(h));
        foreach (var row in LoadRows()) t.AddRow(row.Select(c => Markup.Escape(c)).ToArray());
        AnsiConsole.Write(t);
    }

    // ---------------------------------------------------------------- markdown

    public string CommandLine()
    {
        var args = Environment.GetCommandLineArgs().Skip(1).Select(a => a.Contains(' ') ? $"'{a}'" : a);
        return ("LinuxEvent.Compare " + string.Join(' ', args)).Trim();
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"# Echo comparison, {DateTime.Now:yyyy-MM-dd HH:mm}");
        sb.AppendLine();
        sb.AppendLine(ci, $"- Machine: {Compare.MachineDescription()}");
        sb.AppendLine(ci, $"- Command: `{CommandLine()}` (wall time {elapsed.TotalSeconds:F0} s)");
        sb.AppendLine(ci, $"- Settings: {settings.Reps} rep(s) per server and shape, interleaved; {settings.Seconds:0.##} s measured after {(double.IsNaN(settings.Warmup) ? "?" : settings.Warmup.ToString("0.##", CultureInfo.InvariantCulture))} s warm-up; " +
                          $"{(settings.Pin == "none" ? "server and load generator NOT pinned (--pin none)" : $"server pinned to CPU {runner.ServerCpu}, load generator to CPU {runner.LoadCpu}{(runner.Pinning ? "" : " (NOT pinned: taskset missing)")}")}; " +
                          $"load generator(s): {string.Join(", ", loads.Select(l => l.Name))}");
        sb.AppendLine("- Columns: medians (and min..max) over the clean runs of each server and shape — noisy runs count only when a server has no clean run (`runs` says how many of each); `srv µs/msg` = server CPU time (utime+stime of all its threads, /proc/PID/stat, over the measured window) ÷ messages; " +
                      "`srv alloc B/msg` = our echo-server's `GC.GetTotalAllocatedBytes` difference between a SIGUSR1 mark at the window start and its exit line ÷ messages it echoed in between, with the gen0 collections in that span (summed over runs); " +
                      $"a run is `noisy` if the CPUs were not idle before it or other processes used > 10% of a CPU during it; a noisy run is repeated up to {settings.Retries} time(s) and the last attempt counts (raw.log keeps every attempt).");
        foreach (var n in notes) sb.AppendLine(ci, $"- Note: {n}");
        sb.AppendLine();
        foreach (var load in loads)
        {
            sb.AppendLine(ci, $"## Results (load generator: {load.Name})");
            sb.AppendLine();
            sb.AppendLine("| " + string.Join(" | ", Headers) + " |");
            sb.AppendLine("|" + string.Concat(Headers.Select((h, i) => i < 2 || i == Headers.Length - 1 ? " --- |" : " ---: |")));
            foreach (var sh in shapes)
                foreach (var x in Rows(load, sh))
                {
                    var c = Cells(x, true);
                    c[0] = x == Rows(load, sh).First() ? sh.Label : "";
                    sb.AppendLine("| " + string.Join(" | ", c.Select(Md)) + " |");
                }
            sb.AppendLine();
            sb.AppendLine("Ratios (issue 7 targets: reactor ÷ C epoll and proactor ÷ C liburing: msgs/s ≥ 0.95 and µs/msg ≤ 1.1; both ÷ .NET Sockets msgs/s ≥ 1.8):");
            sb.AppendLine();
            sb.AppendLine("| " + string.Join(" | ", RatioHeaders) + " |");
            sb.AppendLine("| --- |" + string.Concat(RatioHeaders.Skip(1).Select(_ => " ---: |")));
            foreach (var row in Ratios(load)) sb.AppendLine("| " + string.Join(" | ", RatioCells(row)) + " |");
            sb.AppendLine();
        }
        if (loads.Count == 2)
        {
            sb.AppendLine("## Load generators on the same server");
            sb.AppendLine();
            sb.AppendLine("| " + string.Join(" | ", LoadHeaders) + " |");
            sb.AppendLine("| --- | --- |" + string.Concat(LoadHeaders.Skip(2).Select(_ => " ---: |")));
            foreach (var row in LoadRows()) sb.AppendLine("| " + string.Join(" | ", row.Select(Md)) + " |");
            sb.AppendLine();
        }
        sb.AppendLine("![chart](chart.svg)");
        sb.AppendLine();
        sb.AppendLine("Raw lines: `raw.log` (one per run, load generator's key=value line plus CPU figures).");
        return sb.ToString();
    }

    private static string Md(string s) => s.Replace("|", "\\|");

    public string Repo => repo;
}
