namespace LinuxEvent.Compare;

/// <summary>Parsed command-line settings.</summary>
internal sealed class Settings
{
    public bool Quick;
    public int Reps, Retries;
    public double Seconds, Warmup, QuietWait, PortTimeout;
    public string Workloads = "default", Servers = "default", Load = "auto", Pin = "split";
    public string? Repo, Out, EchoServer, EchoServerB, DotnetLoad, BaselinesBin, SocketsEcho, FromRaw;

    /// <summary>The command line as given (for the reports).</summary>
    public string[] Argv = [];
}
