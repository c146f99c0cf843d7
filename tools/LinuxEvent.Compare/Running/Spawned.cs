using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>
/// A process this tool started (optionally pinned with taskset, which execs the program: the PID is the program's),
/// with its output captured. Every live one is in a list so that an interrupted comparison stops what it started,
/// by PID, and nothing else.
/// </summary>
internal sealed class Spawned : IDisposable
{
    private static readonly List<Spawned> s_live = [];
    private readonly StringBuilder _out = new(), _err = new();

    public Process Process { get; }
    public string CommandLine { get; }
    public int Pid => Process.Id;
    public bool HasExited => Process.HasExited;

    private Spawned(Process p, string commandLine)
    {
        Process = p;
        CommandLine = commandLine;
    }

    /// <summary>Starts <paramref name="exe"/>; pinned to <paramref name="cpu"/> with taskset when it is not null.</summary>
    public static Spawned Start(string exe, IEnumerable<string> args, int? cpu)
    {
        var psi = new ProcessStartInfo { FileName = cpu is null ? exe : "taskset", RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (cpu is { } c) { psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(c.ToString(CultureInfo.InvariantCulture)); psi.ArgumentList.Add(exe); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        string line = string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList).Select(Quote));
        var s = new Spawned(new Process { StartInfo = psi }, line);
        s.Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (s._out) s._out.AppendLine(e.Data); };
        s.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (s._err) s._err.AppendLine(e.Data); };
        lock (s_live)
        {
            s.Process.Start();
            s_live.Add(s);
        }
        s.Process.BeginOutputReadLine();
        s.Process.BeginErrorReadLine();
        return s;
    }

    private static string Quote(string a) => a.Length > 0 && a.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:@,+".Contains(ch)) ? a : $"'{a.Replace("'", "'\\''")}'";

    public string Stdout { get { lock (_out) return _out.ToString(); } }

    public string Stderr { get { lock (_err) return _err.ToString(); } }

    /// <summary>The last three lines of stderr, joined with " | ".</summary>
    public string StderrTail()
    {
        var lines = Stderr.Trim().Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
    }

    public bool WaitForExit(TimeSpan timeout) => Process.WaitForExit(timeout);

    public void Signal(int signal)
    {
        if (!Process.HasExited) _ = kill(Pid, signal);   // ESRCH: it has just exited, nothing to do
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>; waits for the output readers to finish.</summary>
    public void Stop(TimeSpan grace)
    {
        if (!Process.HasExited)
        {
            Signal(15);
            if (!Process.WaitForExit(grace))
            {
                try { Process.Kill(); } catch (InvalidOperationException) { }
                Process.WaitForExit(TimeSpan.FromSeconds(2));
            }
        }
        if (Process.HasExited) Process.WaitForExit();
    }

    public void Dispose()
    {
        lock (s_live) s_live.Remove(this);
        Process.Dispose();
    }

    /// <summary>Stops every process still running (Ctrl-C, or the tool exiting on an exception).</summary>
    public static void StopAll()
    {
        Spawned[] live;
        lock (s_live) live = s_live.ToArray();
        foreach (var s in live)
        {
            try { s.Stop(TimeSpan.FromSeconds(2)); } catch (InvalidOperationException) { }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
