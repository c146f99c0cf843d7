using System.Globalization;
using System.Net;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>
/// chart.svg, drawn here (no plotting library): the chart panels of every workload group, two per row. In a panel each
/// workload is a group of bars, one per server, each bar its median relative to the baseline of that workload (C epoll
/// when it ran, else the first server with a result; 1.0 = dashed line), labelled with the absolute median.
/// </summary>
internal static class Chart
{
    private static readonly string[] Colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f", "#edc948", "#bab0ac", "#ff9da7"];
    private const int PanelW = 560, PanelH = 260, Left = 50, Gap = 50, Top = 80, RowH = PanelH + 90;
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static string Svg(Results r)
    {
        var load = r.Loads[0];
        var servers = r.RunServers.ToList();
        var panels = r.Groups.SelectMany(g => g.ChartPanels.Select(p => (Group: g, Panel: p))).ToList();
        int rows = (panels.Count + 1) / 2;
        int width = Left + 2 * PanelW + Gap + 20, legendTop = Top + rows * RowH;
        int height = legendTop + 22 * ((servers.Count + 2) / 3) + 10;
        var sb = new StringBuilder();
        sb.AppendLine(Ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.AppendLine(Ci, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        sb.AppendLine(Ci, $"<text x=\"{Left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">LinuxEvent echo comparison ({Esc(load.Display)}; {Esc(r.Placement)})</text>");
        sb.AppendLine(Ci, $"<text x=\"{Left}\" y=\"40\" fill=\"#555\">Bars: median relative to the baseline of each workload (C epoll when it ran; 1.0 = dashed line); labels: absolute medians. {Esc(r.Started.ToLocalTime().ToString("yyyy-MM-dd HH:mm", Ci))}</text>");
        for (int i = 0; i < panels.Count; i++)
            Panel(sb, r, load, servers, panels[i].Group, panels[i].Panel, Left + (i % 2) * (PanelW + Gap), Top + (i / 2) * RowH);
        for (int k = 0; k < servers.Count; k++)
        {
            int lx = Left + (k % 3) * 300, y = legendTop + (k / 3) * 22;
            sb.AppendLine(Ci, $"<rect x=\"{lx}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[k % Colors.Length]}\"/>");
            sb.AppendLine(Ci, $"<text x=\"{lx + 18}\" y=\"{y}\">{Esc(servers[k].Display)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static void Panel(StringBuilder sb, Results r, LoadSpec load, List<ServerSpec> servers, WorkloadGroup g, ChartPanel p, int x0, int y0)
    {
        var workloads = r.In(g).ToList();
        var bars = new List<(int w, int s, double rel, string label)>();
        for (int wi = 0; wi < workloads.Count; wi++)
        {
            var baseline = r.Find(load, workloads[wi], "epoll") ?? servers.Select(s => r.Find(load, workloads[wi], s.Name)).FirstOrDefault(x => x is not null);
            double bv = baseline?.Median(p.Metric) ?? double.NaN;
            for (int k = 0; k < servers.Count; k++)
            {
                double v = r.Find(load, workloads[wi], servers[k].Name)?.Median(p.Metric) ?? double.NaN;
                if (!(v > 0) || !(bv > 0)) continue;
                string label = p.Unit == "" ? Fmt.Compact(v) : v.ToString(v < 1 ? "0.00" : v < 10 ? "0.0" : "N0", Ci) + p.Unit;
                bars.Add((wi, k, v / bv, label));
            }
        }
        double max = Math.Max(1.25, bars.Count == 0 ? 1.25 : bars.Max(b => b.rel) / 0.8);   // room for the labels above the bars
        double Y(double rel) => y0 + PanelH - rel / max * PanelH;
        string better = p.HigherIsBetter ? "higher is better" : "lower is better";
        sb.AppendLine(Ci, $"<text x=\"{x0}\" y=\"{y0 - 10}\" font-weight=\"bold\">{Esc(p.Title)} ({better}), relative to the baseline</text>");
        sb.AppendLine(Ci, $"<line x1=\"{x0}\" y1=\"{y0 + PanelH}\" x2=\"{x0 + PanelW}\" y2=\"{y0 + PanelH}\" stroke=\"#333\"/>");
        sb.AppendLine(Ci, $"<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y0 + PanelH}\" stroke=\"#333\"/>");
        double step = max > 12 ? Math.Ceiling(max / 6) : max > 5 ? 1 : max > 2.5 ? 0.5 : 0.25;
        for (double t = step; t < max; t += step)
        {
            string stroke = Math.Abs(t - 1) < 1e-9 ? " stroke-dasharray=\"5,3\" stroke=\"#333\"" : " stroke=\"#ddd\"";
            sb.AppendLine(Ci, $"<line x1=\"{x0}\" y1=\"{Y(t):F1}\" x2=\"{x0 + PanelW}\" y2=\"{Y(t):F1}\"{stroke}/>");
            sb.AppendLine(Ci, $"<text x=\"{x0 - 5}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\" fill=\"#555\">{t:0.##}</text>");
        }
        if (Math.Abs(step * Math.Round(1 / step) - 1) > 1e-9)
            sb.AppendLine(Ci, $"<line x1=\"{x0}\" y1=\"{Y(1):F1}\" x2=\"{x0 + PanelW}\" y2=\"{Y(1):F1}\" stroke-dasharray=\"5,3\" stroke=\"#333\"/>");
        double groupW = (double)PanelW / Math.Max(1, workloads.Count);
        double barW = Math.Min(28, (groupW - 16) / Math.Max(1, servers.Count));
        for (int wi = 0; wi < workloads.Count; wi++)
        {
            double gx = x0 + wi * groupW + (groupW - barW * servers.Count) / 2;
            foreach (var b in bars.Where(b => b.w == wi))
            {
                double bx = gx + b.s * barW, by = Y(b.rel);
                sb.AppendLine(Ci, $"<rect x=\"{bx:F1}\" y=\"{by:F1}\" width=\"{barW - 2:F1}\" height=\"{y0 + PanelH - by:F1}\" fill=\"{Colors[b.s % Colors.Length]}\"><title>{Esc(servers[b.s].Display)}: {Esc(b.label)} ({b.rel:0.00}x)</title></rect>");
                sb.AppendLine(Ci, $"<text transform=\"translate({bx + barW / 2 + 3:F1},{by - 4:F1}) rotate(-90)\" font-size=\"9\" fill=\"#222\">{Esc(b.label)}</text>");
            }
            string label = workloads[wi].Title.Split(':')[0];
            sb.AppendLine(Ci, $"<text x=\"{x0 + wi * groupW + groupW / 2:F1}\" y=\"{y0 + PanelH + 16}\" text-anchor=\"middle\">{Esc(label)}</text>");
            sb.AppendLine(Ci, $"<text x=\"{x0 + wi * groupW + groupW / 2:F1}\" y=\"{y0 + PanelH + 30}\" text-anchor=\"middle\" font-size=\"9\" fill=\"#555\">{Esc(Subtitle(workloads[wi], (int)(groupW / 5)))}</text>");
        }
    }

    /// <summary>The part of a workload's title after its name, shortened to fit under its bars.</summary>
    private static string Subtitle(Workload w, int maxChars)
    {
        int i = w.Title.IndexOf(':');
        string s = i < 0 ? "" : w.Title[(i + 1)..].Trim();
        return s.Length > maxChars ? s[..(maxChars - 2)] + ".." : s;
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
