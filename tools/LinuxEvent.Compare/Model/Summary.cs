namespace LinuxEvent.Compare;

/// <summary>The runs of one (load generator, workload, server) and their medians.</summary>
internal sealed class Summary
{
    public required LoadSpec Load;
    public required Workload Workload;
    public required ServerSpec Server;
    public List<RunResult> Runs = [];

    /// <summary>The runs the medians use: the clean ones when there are any, else every successful (noisy) one.</summary>
    public IEnumerable<RunResult> Good => Runs.Any(r => r.Ok && r.Flag == "ok") ? Runs.Where(r => r.Ok && r.Flag == "ok") : Runs.Where(r => r.Ok);
    public int OkCount => Runs.Count(r => r.Ok);
    public int Noisy => Runs.Count(r => r.Ok && r.Flag == "noisy");
    public int FailedCount => Runs.Count(r => !r.Ok);
    public bool HasData => OkCount > 0;
    public string? FirstError => Runs.FirstOrDefault(r => !r.Ok)?.Error;

    /// <summary>Median of <paramref name="metric"/> over the good runs that report it; NaN when none does.</summary>
    public double Median(string metric) => MedianOf(Good.Where(r => r.Has(metric)).Select(r => r[metric]));

    public double Min(string metric) => Good.Where(r => r.Has(metric)).Select(r => r[metric]).DefaultIfEmpty(double.NaN).Min();

    public double Max(string metric) => Good.Where(r => r.Has(metric)).Select(r => r[metric]).DefaultIfEmpty(double.NaN).Max();

    /// <summary>"3/3", "2/3" (one failed) or "2n/3" (two runs, both noisy: used because there is no clean one).</summary>
    public string RunsShort => $"{(Noisy == OkCount && OkCount > 0 ? $"{OkCount}n" : (OkCount - Noisy).ToString(System.Globalization.CultureInfo.InvariantCulture))}/{Runs.Count}";

    public string RunsLong =>
        $"{OkCount - Noisy} clean" + (Noisy > 0 ? $", {Noisy} noisy{(OkCount == Noisy ? " (used)" : " (not used)")}" : "") +
        (FailedCount > 0 ? $", {FailedCount} failed" : "");

    public static double MedianOf(IEnumerable<double> xs)
    {
        var a = xs.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
        if (a.Length == 0) return double.NaN;
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
