using System.Globalization;
using System.Net;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>A small self-made SVG: two panels of grouped bars (one group per shape, one bar per server) —
/// msgs/s and server CPU µs/msg, each relative to a baseline (C epoll if it ran, else our reactor), with the
/// absolute value on each bar. No plotting library restores here.</summary>
internal static class Chart
{
    private static readonly string[] Colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f"];

    public static string Svg(Report report)
    {
        var load = report.Loads[0];
        var servers = report.RunServers;
        string baseline = report.Shapes.Any(s => report.Find(load, s, "epoll") is not null) ? "epoll" : "reactor";
        string baseLabel = baseline == "epoll" ? "C epoll" : "LinuxEvent reactor";
        const int panelW = 560, panelH = 300, top = 70, left = 50, gap = 40;
        int width = left + 2 * panelW + gap + 20, height = top + panelH + 60 + 22 * ((servers.Count + 2) / 3);
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.AppendLine(ci, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        sb.AppendLine(ci, $"<text x=\"{left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">LinuxEvent echo comparison (load: {Esc(load.Name)}; server CPU 0, load CPU 1)</text>");
        sb.AppendLine(ci, $"<text x=\"{left}\" y=\"40\" fill=\"#555\">Bars relative to {Esc(baseLabel)} per shape (1.0 = dashed line); labels: absolute medians. Left: throughput (higher is better). Right: server CPU per message (lower is better).</text>");

        for (int panel = 0; panel < 2; panel++)
        {
            bool cpu = panel == 1;
            int x0 = left + panel * (panelW + gap);
            var vals = new List<(int shape, int srv, double rel, string label)>();
            for (int si = 0; si < report.Shapes.Count; si++)
            {
                var sh = report.Shapes[si];
                var b = report.Find(load, sh, baseline);
                for (int k = 0; k < servers.Count; k++)
                {
                    var x = report.Find(load, sh, servers[k].Name);
                    if (x is null || b is null) continue;
                    double v = cpu ? x.UsPerMsg : x.Msgs, bv = cpu ? b.UsPerMsg : b.Msgs;
                    if (v <= 0 || bv <= 0) continue;
                    string label = cpu ? v.ToString(v < 1 ? "0.00" : "0.0", ci) + "µs" : Abbrev(v);
                    vals.Add((si, k, v / bv, label));
                }
            }
            double max = Math.Max(1.2, vals.Count == 0 ? 1.2 : vals.Max(v => v.rel) * 1.1);
            double Y(double rel) => top + panelH - rel / max * panelH;
            sb.AppendLine(ci, $"<text x=\"{x0}\" y=\"{top - 10}\" font-weight=\"bold\">{(cpu ? "server CPU µs per message ÷ " : "msgs/s ÷ ")}{Esc(baseLabel)}</text>");
            sb.AppendLine(ci, $"<line x1=\"{x0}\" y1=\"{top + panelH}\" x2=\"{x0 + panelW}\" y2=\"{top + panelH}\" stroke=\"#333\"/>");
            sb.AppendLine(ci, $"<line x1=\"{x0}\" y1=\"{top}\" x2=\"{x0}\" y2=\"{top + panelH}\" stroke=\"#333\"/>");
            double step = max > 12 ? 2 : max > 5 ? 1 : max > 2.5 ? 0.5 : 0.25;
            for (double g = step; g < max; g += step)
            {
                string dash = Math.Abs(g - 1) < 1e-9 ? " stroke-dasharray=\"5,3\" stroke=\"#333\"" : " stroke=\"#ddd\"";
                sb.AppendLine(ci, $"<line x1=\"{x0}\" y1=\"{Y(g):F1}\" x2=\"{x0 + panelW}\" y2=\"{Y(g):F1}\"{dash}/>");
                sb.AppendLine(ci, $"<text x=\"{x0 - 5}\" y=\"{Y(g) + 4:F1}\" text-anchor=\"end\" fill=\"#555\">{g:0.##}</text>");
            }
            int groups = report.Shapes.Count;
            double groupW = (double)panelW / groups;
            double barW = Math.Min(28, (groupW - 20) / Math.Max(1, servers.Count));
            for (int si = 0; si < groups; si++)
            {
                double gx = x0 + si * groupW + (groupW - barW * servers.Count) / 2;
                foreach (var v in vals.Where(v => v.shape == si))
                {
                    double bx = gx + v.srv * barW, by = Y(v.rel);
                    sb.AppendLine(ci, $"<rect x=\"{bx:F1}\" y=\"{by:F1}\" width=\"{barW - 2:F1}\" height=\"{top + panelH - by:F1}\" fill=\"{Colors[v.srv % Colors.Length]}\"><title>{Esc(servers[v.srv].Display)}: {Esc(v.label)} ({v.rel:0.00}×)</title></rect>");
                    sb.AppendLine(ci, $"<text transform=\"translate({bx + barW / 2:F1},{by - 4:F1}) rotate(-90)\" font-size=\"9\" fill=\"#222\">{Esc(v.label)}</text>");
                }
                sb.AppendLine(ci, $"<text x=\"{x0 + si * groupW + groupW / 2:F1}\" y=\"{top + panelH + 16}\" text-anchor=\"middle\">{Esc(report.Shapes[si].Label)}</text>");
            }
        }
        int ly = top + panelH + 40;
        for (int k = 0; k < servers.Count; k++)
        {
            int lx = left + (k % 3) * 260, y = ly + (k / 3) * 22;
            sb.AppendLine(ci, $"<rect x=\"{lx}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[k % Colors.Length]}\"/>");
            sb.AppendLine(ci, $"<text x=\"{lx + 18}\" y=\"{y}\">{Esc(servers[k].Display)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Abbrev(double v) =>
        v >= 1e6 ? (v / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M" : (v / 1e3).ToString("0", CultureInfo.InvariantCulture) + "k";

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
