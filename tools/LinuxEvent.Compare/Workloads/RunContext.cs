namespace LinuxEvent.Compare;

/// <summary>What a workload's <see cref="Workload.Run"/> gets: the settings, the runner, the load generator of this pass,
/// and the results so far (a workload may depend on another's, e.g. a peak rate).</summary>
internal sealed class RunContext(Settings settings, Runner runner, LoadSpec load, Func<string, ServerSpec, LoadSpec, Summary?> find)
{
    public Settings Settings => settings;
    public Runner Runner => runner;
    public LoadSpec Load => load;

    /// <summary>The results of workload <paramref name="workload"/> against <paramref name="server"/> under this pass's
    /// load generator, or null if it has none (not run, or every run failed).</summary>
    public Summary? Find(string workload, ServerSpec server) => find(workload, server, load);
}
