using System.Globalization;
using System.Text;

namespace LinuxEvent.IdleBench;

/// <summary>The Markdown table of a run (medians when a measurement was repeated).</summary>
internal static class Report
{
    public static string Markdown(List<IdleResult> results, List<string> notes, BenchOptions options)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"Idle connections: server RSS growth ÷ connections (VmRSS from /proc/PID/status; exchange: {(options.Exchange ? "one request/response, then idle" : "none")}; " +
                          $"warm-up {options.Warmup} connections; {options.Repeat} run(s) each, median).");
        sb.AppendLine();
        sb.AppendLine("| server | model | connections | RSS before (MiB) | RSS after (MiB) | bytes per connection | anon bytes per connection | exit | note |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
        foreach (var g in results.GroupBy(r => (r.Server.Display, r.Requested)))
        {
            var runs = g.ToList();
            var ok = runs.Where(r => r.Error is null).ToList();
            var use = ok.Count > 0 ? ok : runs;
            var first = use[0];
            double Median(Func<IdleResult, double> f)
            {
                var v = use.Select(f).Order().ToList();
                return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
            }
            string note = ok.Count == runs.Count ? "" : $"{runs.Count - ok.Count} failed: {runs.First(r => r.Error is not null).Error}";
            sb.AppendLine(inv, $"| {first.Server.Name} | {first.Server.Model ?? "—"} | {first.Connected:N0} | {Median(r => r.RssBefore) / 1048576:0.0} | " +
                               $"{Median(r => r.RssAfter) / 1048576:0.0} | {Median(r => r.BytesPerConnection):N0} | {Median(r => r.AnonPerConnection):N0} | " +
                               $"{first.ExitCode?.ToString(inv) ?? "killed"} | {note.Replace("|", "/", StringComparison.Ordinal)} |");
        }
        foreach (var n in notes) sb.AppendLine(inv, $"\n- {n}");
        return sb.ToString();
    }
}
