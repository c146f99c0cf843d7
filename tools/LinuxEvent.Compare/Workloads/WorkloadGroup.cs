namespace LinuxEvent.Compare;

/// <summary>
/// Workloads whose results share a table: the terminal summary prints one block per group (a heading, a header line,
/// one line per workload and server), results.md one table, chart.svg its <see cref="ChartPanels"/>.
/// </summary>
internal sealed class WorkloadGroup
{
    public required string Name { get; init; }                           // "echo", "latency"
    public required int Order { get; init; }
    public required string Heading { get; init; }                        // terminal and Markdown heading (ASCII, <= 100)
    public required string Legend { get; init; }                         // terminal: what the columns mean (ASCII, wrapped)
    public required string Explanation { get; init; }                    // Markdown paragraph: what the columns mean
    public required IReadOnlyList<Column> Columns { get; init; }
    public required IReadOnlyList<string> RatioMetrics { get; init; }    // ratios to the baselines in results.json
    public required IReadOnlyList<ChartPanel> ChartPanels { get; init; }
}
