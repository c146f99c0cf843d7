namespace LinuxEvent.Compare;

/// <summary>Everything the reports are made from: what was run, how, where, and the summaries.</summary>
internal sealed class Results
{
    public required Settings Settings { get; init; }
    public required List<Workload> Workloads { get; init; }
    public required List<ServerSpec> Servers { get; init; }     // as asked for, including the missing ones
    public required List<LoadSpec> Loads { get; init; }
    public required List<Summary> Summaries { get; init; }
    public required List<string> Notes { get; init; }
    public required MachineInfo Machine { get; init; }
    public required string Command { get; init; }
    public required DateTime Started { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required bool Pinning { get; init; }
    public required int ServerCpu { get; init; }
    public required int LoadCpu { get; init; }

    public IEnumerable<ServerSpec> RunServers => Servers.Where(x => x.Missing is null);

    public IEnumerable<WorkloadGroup> Groups => Workloads.Select(w => w.Group).Distinct().OrderBy(g => g.Order);

    public IEnumerable<Workload> In(WorkloadGroup g) => Workloads.Where(w => w.Group == g);

    /// <summary>The summary of (load, workload, server) if it has at least one successful run.</summary>
    public Summary? Find(LoadSpec load, Workload workload, string server) =>
        Summaries.FirstOrDefault(x => x.Load == load && x.Workload == workload && x.Server.Name == server && x.HasData);

    /// <summary>Every summary line of (load, workload), in server order (with or without data).</summary>
    public IEnumerable<Summary> Rows(LoadSpec load, Workload workload) => Summaries.Where(x => x.Load == load && x.Workload == workload);

    public Cell CellFor(Summary s) => new(s, name => Find(s.Load, s.Workload, name));

    public string Placement => Settings.Pin == "none"
        ? "server and load generator not pinned (--pin none)"
        : Pinning ? $"server pinned to CPU {ServerCpu}, load generator to CPU {LoadCpu}" : "NOT pinned (taskset missing)";

    public string SettingsLine =>
        $"{Settings.Reps} rep(s) per workload and server, servers interleaved; {Fmt.Secs(Settings.Seconds)} s measured after " +
        $"{Fmt.Secs(Settings.Warmup)} s warm-up; {Placement}; noisy runs repeated up to {Settings.Retries} time(s)";
}
