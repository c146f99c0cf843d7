using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate;

/// <summary>
/// A simulated workload with its invariants: it builds hosts on a <see cref="Simulation"/>, runs them, and records a
/// failure on the simulation when an invariant breaks. One run is one seed on one model.
/// </summary>
public abstract class Scenario
{
    /// <summary>The scenario's name on the command line.</summary>
    public abstract string Name { get; }

    /// <summary>Sets up the hosts and plays the scenario to its end (or its first failure) on <paramref name="sim"/>.</summary>
    protected abstract void Play(Simulator sim);

    /// <summary>The command that replays one run of this scenario.</summary>
    public string ReplayCommand(ulong seed, LoopModel model)
        => $"dotnet run -c Release --project tools/LinuxEvent.Simulate -- --scenario {Name} --seed {seed} --model {ModelName(model)} --trace";

    /// <summary>The model's name on the command line.</summary>
    public static string ModelName(LoopModel model) => model == LoopModel.Reactor ? "reactor" : "proactor";

    /// <summary>Runs seed <paramref name="seed"/> on <paramref name="model"/>: never throws for a failure of the run, which
    /// the outcome carries (with the trace hash, and the trace's lines when <paramref name="recordTrace"/>).</summary>
    public SimulationOutcome Run(ulong seed, LoopModel model, bool recordTrace = false, FaultProfile? faults = null)
    {
        var sim = new Simulator(new SimulationOptions
        {
            Seed = seed,
            Model = model,
            RecordTrace = recordTrace,
            Faults = faults,
            ReplayCommand = ReplayCommand(seed, model),
        });
        string? failure = null;
        try
        {
            try
            {
                Play(sim);
            }
            catch (Exception ex)
            {
                sim.Fail($"the scenario threw {ex.GetType().Name}: {ex.Message}");
            }
            failure = sim.Failure;
        }
        finally
        {
            try { sim.Dispose(); }
            catch (Exception ex) { failure ??= $"disposing the simulation threw {ex.GetType().Name}: {ex.Message}"; }
        }
        return new SimulationOutcome(Name, seed, model, failure, sim.Trace.Hash, sim.Trace.Lines, sim.ReplayCommand!);
    }
}
