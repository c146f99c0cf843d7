using System.Diagnostics;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate;

/// <summary>
/// Runs seeds of a scenario, on dedicated threads (each run is single-threaded and deterministic, so running several
/// at once changes nothing in any of them), and combines their trace hashes in seed order.
/// </summary>
public static class Runner
{
    /// <summary>The outcome of a batch of seeds.</summary>
    /// <param name="Outcomes">One per (seed, model), in seed order, then model order.</param>
    /// <param name="Seeds">Seeds run.</param>
    /// <param name="FailedSeeds">Seeds with at least one failed run.</param>
    /// <param name="TraceHash">The hash over every run's trace hash, in order.</param>
    /// <param name="Elapsed">Wall time of the batch.</param>
    public sealed record Batch(IReadOnlyList<SimulationOutcome> Outcomes, int Seeds, int FailedSeeds, ulong TraceHash, TimeSpan Elapsed)
    {
        /// <summary>Seeds per minute of wall time.</summary>
        public double SeedsPerMinute => Elapsed.TotalMinutes > 0 ? Seeds / Elapsed.TotalMinutes : 0;
    }

    /// <summary>Runs seeds <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 on each of
    /// <paramref name="models"/>, on <paramref name="threads"/> threads.</summary>
    public static Batch Run(Scenario scenario, ulong first, int count, IReadOnlyList<LoopModel> models, int threads, bool recordTrace = false, FaultProfile? faults = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var outcomes = new SimulationOutcome[count * models.Count];
        int next = -1;
        var clock = Stopwatch.StartNew();
        void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < outcomes.Length)
                outcomes[i] = scenario.Run(first + (ulong)(i / models.Count), models[i % models.Count], recordTrace, faults);
        }
        int n = Math.Clamp(threads, 1, Math.Max(1, outcomes.Length));
        var workers = new Thread[n - 1];
        for (int t = 0; t < workers.Length; t++)
        {
            workers[t] = new Thread(Work, 16 * 1024 * 1024) { IsBackground = true, Name = "simulate-" + t };
            workers[t].Start();
        }
        Work();
        foreach (var w in workers) w.Join();
        clock.Stop();
        int failedSeeds = 0;
        for (int s = 0; s < count; s++)
        {
            bool failed = false;
            for (int m = 0; m < models.Count; m++) failed |= !outcomes[s * models.Count + m].Passed;
            if (failed) failedSeeds++;
        }
        ulong hash = SimTrace.Combine(outcomes.Select(o => o.TraceHash));
        return new Batch(outcomes, count, failedSeeds, hash, clock.Elapsed);
    }
}
