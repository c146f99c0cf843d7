using System.Globalization;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>results.md: the settings and environment, how the servers differ, one full table per workload group and load
/// generator (every Markdown column of the group), the chart, and the commands that were run.</summary>
internal static class MarkdownReport
{
    public static string Render(Results r)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"# LinuxEvent echo comparison, {r.Started.ToLocalTime():yyyy-MM-dd HH:mm}");
        sb.AppendLine();
        sb.AppendLine(ci, $"- Machine: {r.Machine.Describe()}");
        sb.AppendLine(ci, $"- Command: `{r.Command}` (wall time {r.Elapsed.TotalSeconds:F0} s)");
        sb.AppendLine(ci, $"- Settings: {r.SettingsLine}");
        sb.AppendLine(ci, $"- Load generator(s): {string.Join(", ", r.Loads.Select(l => $"{l.Display} (`{l.Executable}`)"))}");
        sb.AppendLine("- A run is `noisy` when the CPUs were not idle before it or other processes used more than 10% of a CPU " +
                      "during it; medians use the clean runs of a line, or its noisy ones when it has no clean run (`runs` says which).");
        foreach (var n in r.Notes) sb.AppendLine(ci, $"- Note: {n}");
        sb.AppendLine();
        sb.AppendLine("## Servers");
        sb.AppendLine();
        sb.AppendLine("| server | what it is |");
        sb.AppendLine("| --- | --- |");
        foreach (var s in r.Servers) sb.AppendLine(ci, $"| {Md(s.Display)} | {Md(s.Missing ?? s.About)} |");
        sb.AppendLine();
        foreach (var load in r.Loads)
        {
            foreach (var g in r.Groups)
            {
                var cols = g.Columns.Where(c => c.Markdown.Length > 0).ToList();
                sb.AppendLine(ci, $"## {g.Heading} (load generator: {load.Display})");
                sb.AppendLine();
                sb.AppendLine(g.Explanation);
                sb.AppendLine();
                foreach (var w in r.In(g)) sb.AppendLine(ci, $"- {Md(w.Title)}");
                sb.AppendLine();
                sb.AppendLine("| " + string.Join(" | ", cols.Select(c => c.Markdown)) + " |");
                sb.AppendLine("|" + string.Concat(cols.Select(c => c.Left ? " --- |" : " ---: |")));
                foreach (var w in r.In(g))
                    foreach (var row in r.Rows(load, w))
                    {
                        var cell = r.CellFor(row);
                        var values = row.HasData
                            ? cols.Select(c => c.Value(cell))
                            : cols.Select((c, i) => i == 0 ? w.Name : i == 1 ? row.Server.Display : i == 2 ? ConsoleReport.Failure(row) : "");
                        sb.AppendLine("| " + string.Join(" | ", values.Select(Md)) + " |");
                    }
                sb.AppendLine();
            }
        }
        sb.AppendLine("![chart](chart.svg)");
        sb.AppendLine();
        AppendCommands(sb, r);
        sb.AppendLine("Raw lines: `raw.log` (one per run attempt). Everything above, machine-readable and with every run's " +
                      "commands: `results.json`.");
        return sb.ToString();
    }

    /// <summary>The server command of each server and the load command of each workload, from their first run.</summary>
    private static void AppendCommands(StringBuilder sb, Results r)
    {
        var runs = r.Summaries.SelectMany(s => s.Runs).ToList();
        if (runs.All(x => x.ServerCommand is null && x.LoadCommand is null)) return;
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine("## Commands (first run of each; the port differs per run)");
        sb.AppendLine();
        sb.AppendLine("```");
        foreach (var s in r.RunServers)
            if (runs.FirstOrDefault(x => x.Server == s && x.ServerCommand is not null) is { } a) sb.AppendLine(ci, $"# server {s.Name}: {a.ServerCommand}");
        foreach (var w in r.Workloads)
            if (runs.FirstOrDefault(x => x.Workload == w && x.LoadCommand is not null) is { } a) sb.AppendLine(ci, $"# load {w.Name}: {a.LoadCommand}");
        sb.AppendLine("```");
        sb.AppendLine();
    }

    private static string Md(string s) => s.Replace("|", "\\|").Replace("\n", " ");
}
