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
                          $"warm-up {IdleRunner.WarmupRounds} × {options.Warmup} connections; {options.Repeat} run(s) each, median).");
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
        // Marginal cost: the slope between the smallest and the largest count of one server and model. Fixed costs that
        // the warm-up did not reach (GC regions, page granularity) cancel out; this is what an extra connection costs.
        var slopes = results.Where(r => r.Error is null).GroupBy(r => r.Server.Display)
            .Select(g => (Server: g.First().Server, Runs: g.GroupBy(r => r.Connected).OrderBy(x => x.Key).ToList()))
            .Where(x => x.Runs.Count >= 2).ToList();
        if (slopes.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| server | model | marginal bytes per connection | fixed part (MiB) | 100,000 connections (MiB, estimated) |");
            sb.AppendLine("| --- | --- | ---: | ---: | ---: |");
            foreach (var (server, runs) in slopes)
            {
                double Growth(IGrouping<int, IdleResult> g) => g.Select(r => (double)(r.RssAfter - r.RssBefore)).Order().ElementAt(g.Count() / 2);
                var lo = runs[0];
                var hi = runs[^1];
                double slope = (Growth(hi) - Growth(lo)) / (hi.Key - lo.Key);
                double fixedPart = Growth(lo) - slope * lo.Key;
                double at100k = (fixedPart + slope * 100_000) / 1048576;
                sb.AppendLine(inv, $"| {server.Name} | {server.Model ?? "—"} | {slope:N0} | {fixedPart / 1048576:0.0} | {at100k:N0} |");
            }
        }
        foreach (var n in notes) sb.AppendLine(inv, $"\n- {n}");
        return sb.ToString();
    }
}
