namespace LinuxEvent.Compare;

/// <summary>One measured run of one workload against one server.</summary>
internal sealed class RunResult
{
    public required Workload Workload;
    public required ServerSpec Server;
    public required LoadSpec Load;
    public int Rep;
    public bool Ok;                                      // the load generator reported errors=0 and the server survived
    public string Flag = "ok";                           // ok | noisy | FAILED
    public string? Error, Warning;
    public Dictionary<string, double> Metrics = new(StringComparer.Ordinal);
    public string LoadLine = "";                         // the load generator's output line, verbatim
    public string? ServerCommand, LoadCommand;           // exactly what was started (taskset included)

    public double this[string metric] => Metrics.TryGetValue(metric, out var v) ? v : double.NaN;

    public bool Has(string metric) => Metrics.ContainsKey(metric);
}
