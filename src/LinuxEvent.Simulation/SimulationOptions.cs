namespace LinuxEvent.Simulation;

/// <summary>Options of a <see cref="Simulation"/> run.</summary>
public sealed class SimulationOptions
{
    /// <summary>The seed: everything the run decides (ordering, sizes, latencies, faults) follows from it. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The model of hosts created without one (<see cref="Simulator.CreateHost(string, LoopModel?)"/>).
    /// Default <see cref="LoopModel.Reactor"/>.</summary>
    public LoopModel Model { get; init; } = LoopModel.Reactor;

    /// <summary>The faults of the run; null (the default) draws a profile from the seed (<see cref="FaultProfile.Swarm"/>).
    /// <see cref="FaultProfile.None"/> turns faults off.</summary>
    public FaultProfile? Faults { get; init; }

    /// <summary>Keep the trace's lines (<see cref="SimTrace.Lines"/>) and not only its hash. Default false.</summary>
    public bool RecordTrace { get; init; }

    /// <summary>
    /// The command that replays a run, shown by failures; <c>{seed}</c> is replaced by the seed. Default: none (the
    /// failure names the seed only). Example: <c>dotnet run --project tools/LinuxEvent.Simulate -- --scenario chat --seed {seed} --trace</c>.
    /// </summary>
    public string? ReplayCommand { get; init; }

    /// <summary>Scheduler steps allowed without the virtual clock moving before the run is declared a livelock
    /// (loops that keep each other busy forever at one instant). Default 200,000.</summary>
    public int MaxStepsPerInstant { get; init; } = 200_000;
}
