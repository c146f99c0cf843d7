namespace LinuxEvent.Compare;

/// <summary>Parsed command-line settings.</summary>
internal sealed class Settings
{
    public bool Quick;
    public int Reps, Retries;
    public double Seconds, Warmup, QuietWait, PortTimeout;
    public string Shapes = "a,b,c", Servers = "default", Load = "auto", Pin = "split";
    public string? Repo, Out, EchoServer, DotnetLoad, PeersBin, FromRaw;
}

internal sealed class UsageException(string message) : Exception(message);

/// <summary>A load shape: the issue's standard a/b/c (the default set), and d (500 connections, the issue's proactor-vs-reactor
/// target; only when asked for with --shapes).</summary>
internal sealed record Shape(string Name, int Conns, int Size, int Depth)
{
    public static readonly Shape[] All =
    [
        new("a", 50, 64, 1),
        new("b", 50, 64, 16),
        new("c", 10, 16384, 4),
        new("d", 500, 64, 1),
    ];

    public string Label => $"{Name}: {Conns} conns × {(Size >= 1024 ? $"{Size / 1024} KiB" : $"{Size} B")}, depth {Depth}";
}

/// <summary>A server under test: how to start it and whether it can be run here.</summary>
internal sealed class ServerSpec
{
    public required string Name { get; init; }          // option name: reactor, proactor, epoll, ...
    public required string Display { get; init; }       // table label
    public required string Executable { get; init; }
    public required string[] Arguments { get; init; }   // @PORT@ is replaced
    public bool Ours { get; init; }                     // our echo-server: prints mark lines on SIGUSR1
    public string? Missing { get; set; }                // why it cannot run (then it is skipped, never faked)
    public string? Failed { get; set; }                 // it failed at run time: later reps are skipped
}

/// <summary>A load generator.</summary>
internal sealed class LoadSpec
{
    public required string Name { get; init; }          // echoload | dotnet
    public required string Executable { get; init; }
}

/// <summary>One measured run.</summary>
internal sealed class RunResult
{
    public required Shape Shape;
    public required ServerSpec Server;
    public required LoadSpec Load;
    public int Rep;
    public bool Ok;                       // the load generator reported errors=0 and the server survived
    public string Flag = "ok";            // ok | noisy | FAILED
    public string? Error;
    public double MsgsPerSec, P50, P99, P999, Max, ClientCpu;
    public double ServerCpuPct;           // % of one CPU over the measured window (all threads)
    public double ServerUsPerMsg;         // server CPU µs per message
    public double Cpu0Busy, Cpu1Busy, OtherCpu;
    public double? AllocBytesPerMsg;      // our servers: GC.GetTotalAllocatedBytes delta over the window ÷ messages
    public long? Gen0InWindow;            // our servers: gen0 collections over the window
    public string LoadLine = "";
    public string? Warning;              // e.g. our server did not exit 0 on SIGTERM
}
