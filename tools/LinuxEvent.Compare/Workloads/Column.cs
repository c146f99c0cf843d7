namespace LinuxEvent.Compare;

/// <summary>
/// A column of a group's table. <see cref="Terminal"/> is the header in the 100-column summary (empty: Markdown only,
/// ASCII only, at most <see cref="Width"/> characters); <see cref="Markdown"/> the header in results.md (empty:
/// terminal only).
/// </summary>
internal sealed record Column(string Terminal, string Markdown, int Width, Func<Cell, string> Value, bool Left = false);

/// <summary>What a column's value is computed from: one summary line and its peers (same workload and load
/// generator, another server, by name; null when that server has no result).</summary>
internal sealed record Cell(Summary Row, Func<string, Summary?> Peer);

/// <summary>A panel of chart.svg: <see cref="Metric"/> for each workload of the group and each server, relative to the
/// baseline server (C epoll when it ran), with the absolute value as the bar's label.</summary>
internal sealed record ChartPanel(string Title, string Metric, bool HigherIsBetter, string Unit);
