namespace LinuxEvent.Compare;

/// <summary>
/// The terminal summary: per load generator and workload group, a heading, the workloads' titles, a header line and
/// one line per workload and server with the group's terminal columns; then the notes. ASCII, at most 100 columns.
/// </summary>
internal static class ConsoleReport
{
    public static void Print(Results r, TextWriter o)
    {
        foreach (var load in r.Loads)
        {
            foreach (var g in r.Groups)
            {
                o.WriteLine();
                Write(o, g.Heading);
                if (r.Loads.Count > 1 || load.Name != "c") Write(o, $"load generator: {load.Display}");
                foreach (var line in Text.Wrap(Text.Ascii(string.Join("; ", r.In(g).Select(w => w.Title))), 2)) o.WriteLine(line);
                foreach (var line in Text.Wrap(Text.Ascii(g.Legend), 2)) o.WriteLine(line);
                var cols = g.Columns.Where(c => c.Terminal.Length > 0).ToList();
                Write(o, Join(cols, cols.Select(c => c.Terminal)));
                foreach (var w in r.In(g))
                {
                    foreach (var row in r.Rows(load, w))
                    {
                        if (!row.HasData)
                        {
                            Write(o, $"{w.Name,-5} {row.Server.Short,-19} {Failure(row)}");
                            continue;
                        }
                        var cell = r.CellFor(row);
                        Write(o, Join(cols, cols.Select(c => c.Value(cell))));
                    }
                }
            }
        }
        o.WriteLine();
        Write(o, "runs: clean runs used / runs made; \"2n/3\": no clean run, 2 noisy ones used (see results.md)");
        foreach (var n in r.Notes)
            foreach (var line in Text.Wrap(Text.Ascii("note: " + n), 6)) o.WriteLine(line);
    }

    /// <summary>Why a line has no figures: its runs failed, or it was skipped after its server failed to start.</summary>
    public static string Failure(Summary row) =>
        row.Runs.Count == 0 ? "not run: the server failed to start earlier (see the notes)" : $"FAILED ({row.Runs.Count} run(s)): {row.FirstError}";

    private static string Join(List<Column> cols, IEnumerable<string> values) =>
        string.Join(' ', cols.Zip(values, (c, v) => c.Left ? v.PadRight(c.Width) : v.PadLeft(c.Width))).TrimEnd();

    private static void Write(TextWriter o, string line) => o.WriteLine(Text.Cut(Text.Ascii(line), Text.Width));
}
