namespace LinuxEvent.Compare;

/// <summary>
/// One benchmark workload: what load to put on a server, and how its results are shown.
/// </summary>
/// <remarks>
/// <para><b>Adding a workload is one file</b> under <c>Workloads/</c>: a non-abstract class deriving from
/// <see cref="Workload"/> with a public parameterless constructor (nested classes count, so one file can hold a family
/// such as the echo shapes a, b, c, d). <see cref="WorkloadRegistry"/> finds it by reflection: it is then selectable
/// with <c>--workloads NAME</c>, in the default set if <see cref="InDefaultSet"/>, run for every server it
/// <see cref="AppliesTo"/>, and shown in the table of its <see cref="Group"/> (a new kind of result declares its own
/// <see cref="WorkloadGroup"/> in the same file: its columns, ratios and chart panels).</para>
/// <para><see cref="Run"/> does one measured run and may use any part of <see cref="Runner"/>: the usual
/// "start the server pinned, run the load generator with these options, sample CPU" is
/// <see cref="Runner.RunLoad"/>; a workload that needs something else (say, holding idle connections open and reading
/// the server's memory, or reading a file instead of a socket) starts its processes with
/// <see cref="Runner.StartServer"/> and <see cref="Runner.StartPinned"/> and fills <see cref="RunResult.Metrics"/>
/// itself. Metric names become columns of raw.log and keys of results.json.</para>
/// </remarks>
internal abstract class Workload
{
    /// <summary>Option name: <c>--workloads a,lat90</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for reports: "a: 50 conns x 64 B, depth 1".</summary>
    public abstract string Title { get; }

    /// <summary>The table (and chart panels) this workload's lines go to.</summary>
    public abstract WorkloadGroup Group { get; }

    /// <summary>Position in the run order and in the reports; a workload runs after those it depends on anyway.</summary>
    public abstract int Order { get; }

    /// <summary>In the set that runs when no <c>--workloads</c> is given (and in <c>--quick</c>).</summary>
    public virtual bool InDefaultSet => true;

    /// <summary>Also in <c>--quick</c>'s default set (which must finish within 90 s); default: when in the default set.</summary>
    public virtual bool InQuickSet => InDefaultSet;

    /// <summary>Workloads whose results this one reads (e.g. a peak rate); they are added to the run when missing.</summary>
    public virtual IReadOnlyList<string> DependsOn => [];

    /// <summary>Whether this workload can run against <paramref name="server"/> (default: every server).</summary>
    public virtual bool AppliesTo(ServerSpec server) => true;

    /// <summary>Parameters for results.json ("conns": "50", ...).</summary>
    public abstract IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Seconds one run takes, roughly, for the up-front estimate.</summary>
    public abstract double EstimateSeconds(Settings settings);

    /// <summary>One measured run. Never throws for a failed run: returns a result with <c>Ok = false</c> and an error.</summary>
    public abstract RunResult Run(RunContext context, ServerSpec server, int rep);

    /// <summary>The run's headline figures for the progress line (at most 48 characters).</summary>
    public abstract string ProgressText(RunResult result);
}
