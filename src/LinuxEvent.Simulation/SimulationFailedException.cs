namespace LinuxEvent.Simulation;

/// <summary>
/// A simulated run broke an invariant, stalled, or a loop threw. The message names the seed and, when the run was
/// given one (<see cref="SimulationOptions.ReplayCommand"/>), the one command that replays it.
/// </summary>
public sealed class SimulationFailedException : Exception
{
    /// <summary>Creates the exception for <paramref name="seed"/>.</summary>
    public SimulationFailedException(ulong seed, string failure, string? replayCommand, Exception? inner = null)
        : base(Describe(seed, failure, replayCommand), inner)
    {
        Seed = seed;
        Failure = failure;
        ReplayCommand = replayCommand;
    }

    /// <summary>The seed of the failed run.</summary>
    public ulong Seed { get; }

    /// <summary>What went wrong.</summary>
    public string Failure { get; }

    /// <summary>The command that replays the run, if known.</summary>
    public string? ReplayCommand { get; }

    private static string Describe(ulong seed, string failure, string? replay)
        => $"simulation seed {seed} failed: {failure}" + (replay is null ? "" : $"{Environment.NewLine}replay: {replay}");
}
