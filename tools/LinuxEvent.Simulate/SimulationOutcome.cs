namespace LinuxEvent.Simulate;

/// <summary>The result of one run of a scenario.</summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Model">The model the hosts ran on.</param>
/// <param name="Failure">What went wrong, or null when the run passed.</param>
/// <param name="TraceHash">The trace's 64-bit FNV-1a hash.</param>
/// <param name="TraceLines">The trace's lines when recorded (empty otherwise).</param>
/// <param name="ReplayCommand">The one command that replays the run.</param>
public sealed record SimulationOutcome(string Scenario, ulong Seed, LoopModel Model, string? Failure, ulong TraceHash, IReadOnlyList<string> TraceLines, string ReplayCommand)
{
    /// <summary>True when the run kept every invariant.</summary>
    public bool Passed => Failure is null;

    /// <summary>A failure report: the seed, the failure and the replay command.</summary>
    public string Describe() => Passed
        ? $"seed {Seed} ({LinuxEvent.Simulate.Scenario.ModelName(Model)}): passed"
        : $"FAIL {Scenario} seed {Seed} ({LinuxEvent.Simulate.Scenario.ModelName(Model)}): {Failure}{Environment.NewLine}  replay: {ReplayCommand}";
}
