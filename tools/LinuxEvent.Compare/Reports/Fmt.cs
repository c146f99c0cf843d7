using System.Globalization;

namespace LinuxEvent.Compare;

/// <summary>Number formats shared by the terminal summary, results.md and the chart (invariant culture, ASCII).</summary>
internal static class Fmt
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public const string None = "-";

    /// <summary>Whole number with thousands separators ("2,553,466"); "-" for NaN.</summary>
    public static string N0(double v) => double.IsNaN(v) ? None : v.ToString("N0", Ci);

    /// <summary>Fixed decimals; "-" for NaN.</summary>
    public static string F(double v, string format) => double.IsNaN(v) ? None : v.ToString(format, Ci);

    /// <summary>Server CPU per message: two decimals below 1 µs, one above ("0.39", "5.3", "12.8").</summary>
    public static string UsPerMsg(double v) => double.IsNaN(v) ? None : v.ToString(v < 1 ? "0.00" : v < 100 ? "0.0" : "0", Ci);

    /// <summary>A latency in µs: whole µs below one second ("58,982"), else seconds ("1.25s").</summary>
    public static string Micros(double v) => double.IsNaN(v) ? None : v < 1e6 ? v.ToString("N0", Ci) : (v / 1e6).ToString("0.00", Ci) + "s";

    /// <summary>a ÷ b with two decimals, or "-" when either is missing or not positive.</summary>
    public static string Ratio(double a, double b) => a > 0 && b > 0 ? (a / b).ToString("0.00", Ci) : None;

    /// <summary>The ratio of <paramref name="metric"/> between this line and the same workload on server <paramref name="peer"/>.</summary>
    public static string Ratio(Cell c, string peer, string metric)
    {
        var p = c.Peer(peer);
        return p is null ? None : Ratio(c.Row.Median(metric), p.Median(metric));
    }

    /// <summary>"184.9k", "2.55M": for bar labels.</summary>
    public static string Compact(double v) =>
        v >= 1e6 ? (v / 1e6).ToString("0.00", Ci) + "M" : v >= 1e3 ? (v / 1e3).ToString("0.#", Ci) + "k" : v.ToString("0.##", Ci);

    /// <summary>Seconds for settings: "4", "0.5".</summary>
    public static string Secs(double v) => double.IsNaN(v) ? "?" : v.ToString("0.##", Ci);

    public static string I(long v) => v.ToString(Ci);

    /// <summary>Invariant-culture text for a number on a command line.</summary>
    public static string Arg(double v) => v.ToString("0.###", Ci);
}
