namespace LinuxEvent.Compare;

/// <summary>Names of the figures a run reports: the load generators' key=value keys plus what the runner adds.
/// They are the keys of <see cref="RunResult.Metrics"/>, of raw.log and of results.json.</summary>
internal static class Metric
{
    public const string MsgsPerSec = "msgs_per_s";      // messages echoed per second in the measured window
    public const string P50 = "p50_us", P90 = "p90_us", P99 = "p99_us", P999 = "p999_us", Max = "max_us";
    public const string ClientCpu = "cli_cpu";          // % of one CPU used by the load generator
    public const string ServerCpu = "srv_cpu";          // % of one CPU used by the server (all threads)
    public const string ServerUsPerMsg = "srv_us_per_msg";
    public const string Cpu0Busy = "cpu0_busy", Cpu1Busy = "cpu1_busy";
    public const string OtherCpu = "other_cpu";         // cpu0 + cpu1 busy - server - load generator
    public const string AllocPerMsg = "srv_alloc_b_per_msg", Gen0 = "srv_gen0";   // our servers only
    public const string Rate = "rate";                  // open loop: requested messages per second
    public const string LagP99 = "lag_p99_us", LagMax = "lag_max_us";            // open loop: generator lateness
    public const string Unfinished = "unfinished";      // open loop: in-window messages never echoed
}
