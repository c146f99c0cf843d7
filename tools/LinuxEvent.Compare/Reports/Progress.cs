using System.Diagnostics;

namespace LinuxEvent.Compare;

/// <summary>
/// The progress of the runs: on a terminal one line that is rewritten in place (failures and notes stay on screen);
/// otherwise (a pipe, a log file) one plain line per finished run. Lines fit 100 columns.
/// </summary>
internal sealed class Progress(int total, double estimateSeconds, TextWriter o, bool tty)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _index;
    private bool _lineShown;

    public void Starting(Workload w, ServerSpec server, int rep)
    {
        _index++;
        if (tty) Show($"{Prefix(w, server)} rep {rep}: running {Timing()}");
    }

    public void Finished(RunResult r)
    {
        string text = r.Ok
            ? $"{Prefix(r.Workload, r.Server)} {r.Workload.ProgressText(r)}{(r.Flag == "noisy" ? $" noisy(other {Fmt.F(r[Metric.OtherCpu], "0")}%)" : "")}"
            : $"{Prefix(r.Workload, r.Server)} FAILED: {r.Error}";
        if (!tty || !r.Ok) Persist(text);
        else Show($"{text} {Timing()}");
    }

    /// <summary>A line that stays (a note, a failure, a repeat).</summary>
    public void Persist(string text)
    {
        Clear();
        o.WriteLine(Text.Cut(Text.Ascii(text), Text.Width));
        o.Flush();
    }

    /// <summary>Removes the in-place line (before the summary is printed).</summary>
    public void Clear()
    {
        if (!_lineShown) return;
        o.Write("\r\u001b[K");
        _lineShown = false;
    }

    private string Prefix(Workload w, ServerSpec server) => $"[{_index,3}/{total}] {w.Name,-5} {server.Short,-19}";

    private string Timing()
    {
        double spent = _clock.Elapsed.TotalSeconds;
        double left = _index > 1 ? spent / (_index - 1) * (total - _index + 1) : estimateSeconds;
        return $"({spent:F0} s, ~{Math.Max(0, left):F0} s left)";
    }

    private void Show(string text)
    {
        o.Write("\r" + Text.Cut(Text.Ascii(text), Text.Width - 1) + "\u001b[K");
        o.Flush();
        _lineShown = true;
    }
}
