using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>
/// One run: server pinned to CPU 0, load generator pinned to CPU 1, CPU sampled over the measured window
/// (server: utime+stime of all its threads from /proc/PID/stat; CPUs: /proc/stat), the server stopped by its PID.
/// </summary>
internal sealed class Runner(Settings settings, TextWriter log)
{
    private static readonly double ClockTicks = GetClockTicks();
    private readonly bool _pin = settings.Pin != "none" && (File.Exists("/usr/bin/taskset") || File.Exists("/bin/taskset"));
    private readonly int _serverCpu = 0, _loadCpu = Environment.ProcessorCount > 1 ? 1 : 0;

    public bool Pinning => _pin;
    public int ServerCpu => _serverCpu;
    public int LoadCpu => _loadCpu;

    public RunResult Run(Shape shape, ServerSpec server, LoadSpec load, int rep)
    {
        var r = new RunResult { Shape = shape, Server = server, Load = load, Rep = rep };
        bool quiet = WaitQuiet(settings.QuietWait);
        int port = FreePort();
        var serverErr = new StringBuilder();
        Process? srv = null;
        try
        {
            srv = Start(server.Executable, server.Arguments.Select(a => a.Replace("@PORT@", port.ToString(CultureInfo.InvariantCulture))), _serverCpu, serverErr);
            if (!WaitListening(port, srv, settings.PortTimeout, out string? why))
            {
                r.Flag = "FAILED";
                r.Error = $"{why}; server said: {Tail(serverErr)}";
                if (srv.HasExited) server.Failed = r.Error;      // it cannot start here (e.g. io_uring unavailable): skip later reps
                return r;
            }

            var loadOut = new StringBuilder();
            var loadErr = new StringBuilder();
            string[] loadArgs =
            [
                "-p", port.ToString(CultureInfo.InvariantCulture), "-c", shape.Conns.ToString(CultureInfo.InvariantCulture),
                "-s", shape.Size.ToString(CultureInfo.InvariantCulture), "-d", shape.Depth.ToString(CultureInfo.InvariantCulture),
                "-t", settings.Seconds.ToString(CultureInfo.InvariantCulture), "-w", settings.Warmup.ToString(CultureInfo.InvariantCulture),
            ];
            using var ld = Start(load.Executable, loadArgs, _loadCpu, loadErr, loadOut);
            // The load generator measures from its own warm-up end; sample the CPUs over (about) the same window.
            // Waiting on the load process (not sleeping) returns at once if it dies during the warm-up.
            ld.WaitForExit(TimeSpan.FromSeconds(settings.Warmup));
            if (server.Ours) Signal(srv.Id, 10);              // SIGUSR1: mark line (allocations, gen0) at window start
            var (cpuA, srvA, tA) = (ReadCpus(), ReadProcessTicks(srv.Id), Stopwatch.GetTimestamp());
            int budgetMs = (int)((settings.Seconds + settings.Warmup + 30) * 1000);
            if (!ld.WaitForExit(budgetMs))
            {
                try { ld.Kill(); } catch (InvalidOperationException) { }
                r.Flag = "FAILED";
                r.Error = $"load generator did not finish within {budgetMs / 1000} s";
                return r;
            }
            ld.WaitForExit();                                  // flush the async readers
            var (cpuB, srvB, tB) = (ReadCpus(), ReadProcessTicks(srv.Id), Stopwatch.GetTimestamp());
            r.LoadLine = loadOut.ToString().Trim();
            var kv = ParseKv(r.LoadLine);
            double window = Stopwatch.GetElapsedTime(0, tB - tA).TotalSeconds;
            r.MsgsPerSec = Get(kv, "msgs_per_s");
            r.P50 = Get(kv, "p50_us"); r.P99 = Get(kv, "p99_us"); r.P999 = Get(kv, "p999_us"); r.Max = Get(kv, "max_us");
            r.ClientCpu = Get(kv, "cli_cpu");
            if (srvA is { } a && srvB is { } b)
            {
                r.ServerCpuPct = 100.0 * (b - a) / ClockTicks / window;
                r.ServerUsPerMsg = r.MsgsPerSec > 0 ? r.ServerCpuPct * 1e4 / r.MsgsPerSec : 0;
            }
            if (cpuA is not null && cpuB is not null)
            {
                r.Cpu0Busy = Busy(cpuA, cpuB, 0);
                r.Cpu1Busy = Busy(cpuA, cpuB, 1);
                r.OtherCpu = r.Cpu0Busy + r.Cpu1Busy - r.ServerCpuPct - r.ClientCpu;
            }
            bool loadOk = ld.ExitCode == 0 && kv.TryGetValue("errors", out var e) && e == "0";
            if (!loadOk)
            {
                r.Flag = "FAILED";
                r.Error = $"load generator exit {ld.ExitCode}: {Tail(loadErr)} {r.LoadLine}".Trim();
                return r;
            }
            if (srv.HasExited)
            {
                r.Flag = "FAILED";
                r.Error = $"server exited during the run (code {srv.ExitCode}): {Tail(serverErr)}";
                return r;
            }
            r.Ok = true;
            if (!quiet || r.OtherCpu > 10) r.Flag = "noisy";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            r.Flag = "FAILED";
            r.Error = ex.Message;
        }
        finally
        {
            if (srv is not null)
            {
                Stop(srv);
                if (server.Ours && srv.HasExited && srv.ExitCode != 0)
                    r.Warning = $"{server.Display} exited with code {srv.ExitCode} after SIGTERM (expected 0): {Tail(serverErr)}";
                if (server.Ours && r.Ok) ParseMarks(serverErr.ToString(), r);
                srv.Dispose();
            }
            log.WriteLine(RawLine(r));
            log.Flush();
        }
        return r;
    }

    public static string RawLine(RunResult r) =>
        // InvariantGlobalization: interpolation formats with the invariant culture.
            $"shape={r.Shape.Name} server={r.Server.Name} load={r.Load.Name} rep={r.Rep} flag={r.Flag} {r.LoadLine} " +
            $"cpu0_busy={r.Cpu0Busy:F0} cpu1_busy={r.Cpu1Busy:F0} srv_cpu={r.ServerCpuPct:F0} other_cpu={r.OtherCpu:F0} " +
            $"srv_us_per_msg={r.ServerUsPerMsg:F3}" +
            (r.AllocBytesPerMsg is { } al ? $" srv_alloc_b_per_msg={al:F4} srv_gen0={r.Gen0InWindow}" : "") +
            (r.Warning is not null ? $" warning=\"{r.Warning.Replace('"', '\'').Replace('\n', ' ')}\"" : "") +
            (r.Error is not null ? $" error=\"{r.Error.Replace('"', '\'').Replace('\n', ' ')}\"" : "");

    // ---------------------------------------------------------------- processes

    private Process Start(string exe, IEnumerable<string> args, int cpu, StringBuilder err, StringBuilder? output = null)
    {
        var psi = new ProcessStartInfo
        {
            FileName = _pin ? "taskset" : exe,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        if (_pin) { psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(cpu.ToString(CultureInfo.InvariantCulture)); psi.ArgumentList.Add(exe); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (err) err.AppendLine(e.Data); };
        var o = output ?? err;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (o) o.AppendLine(e.Data); };
        p.Start();                          // taskset execs the program: the PID is the server's
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    /// <summary>SIGTERM, then SIGKILL after 5 s. Only the process this tool started, by its PID.</summary>
    private static void Stop(Process p)
    {
        if (p.HasExited) return;
        Signal(p.Id, 15);
        if (!p.WaitForExit(5000))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            p.WaitForExit(2000);
        }
        p.WaitForExit();                    // drain the output readers
    }

    private static void Signal(int pid, int sig)
    {
        try { Posix.Kill(pid, sig); } catch (Exception e) when (e is ILinuxEventError) { /* already gone */ }
    }

    private static string Tail(StringBuilder sb)
    {
        string s;
        lock (sb) s = sb.ToString().Trim();
        var lines = s.Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
    }

    /// <summary>
    /// Reads the "mark" line our echo-server printed on SIGUSR1 at the window start and its "exit" line (same
    /// counters, printed after SIGTERM once everything is closed): the difference covers the measured window plus the
    /// shutdown, during which no messages flow.
    /// </summary>
    private static void ParseMarks(string stderr, RunResult r)
    {
        var lines = stderr.Split('\n');
        var mark = lines.FirstOrDefault(l => l.Contains(" mark ", StringComparison.Ordinal));
        var exit = lines.LastOrDefault(l => l.Contains(" exit ", StringComparison.Ordinal));
        if (mark is null || exit is null) return;
        var (a, b) = (ParseKv(mark), ParseKv(exit));
        if (!a.ContainsKey("alloc_bytes") || !b.ContainsKey("alloc_bytes")) return;
        double alloc = Get(b, "alloc_bytes") - Get(a, "alloc_bytes");
        r.Gen0InWindow = (long)(Get(b, "gen0") - Get(a, "gen0"));
        double msgs = (Get(b, "bytes") - Get(a, "bytes")) / r.Shape.Size;     // messages the server echoed between the marks
        r.AllocBytesPerMsg = msgs > 0 ? alloc / msgs : null;
    }

    public static Dictionary<string, string> ParseKv(string line)
    {
        var d = new Dictionary<string, string>();
        foreach (var tok in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int i = tok.IndexOf('=');
            if (i > 0) d[tok[..i]] = tok[(i + 1)..];
        }
        return d;
    }

    private static double Get(Dictionary<string, string> kv, string key) =>
        kv.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;

    // ---------------------------------------------------------------- ports

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Waits until something listens on 127.0.0.1:port, reading /proc/net/tcp (never connecting, so the
    /// server sees no extra connection). Bounded by <paramref name="timeoutSeconds"/>.</summary>
    private static bool WaitListening(int port, Process srv, double timeoutSeconds, out string? why)
    {
        var sw = Stopwatch.StartNew();
        string needle = $":{port:X4} ";
        while (sw.Elapsed.TotalSeconds < timeoutSeconds)
        {
            foreach (var f in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            {
                if (!File.Exists(f)) continue;
                foreach (var line in File.ReadLines(f))
                {
                    var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (cols.Length > 3 && cols[3] == "0A" && (cols[1] + " ").EndsWith(needle, StringComparison.Ordinal)) { why = null; return true; }
                }
            }
            // Bounded pause between probes that ends at once if the server exits.
            if (srv.WaitForExit(20)) { why = $"server exited with code {srv.ExitCode} before listening"; return false; }
        }
        why = $"server not listening on port {port} after {timeoutSeconds:F0} s";
        return false;
    }

    // ---------------------------------------------------------------- CPU accounting

    private static double GetClockTicks()
    {
        try
        {
            var psi = new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (double.TryParse(s, CultureInfo.InvariantCulture, out var hz) && hz > 0) return hz;
        }
        catch (System.ComponentModel.Win32Exception) { }
        return 100;
    }

    /// <summary>utime+stime (clock ticks) of the whole process — all threads, live and exited — from /proc/PID/stat.</summary>
    private static long? ReadProcessTicks(int pid)
    {
        try
        {
            string s = File.ReadAllText($"/proc/{pid}/stat");
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>(busy, idle) jiffies of cpu0 and cpu1, as run-echo.sh counts them.</summary>
    private static long[]? ReadCpus()
    {
        try
        {
            var res = new long[4];
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                int cpu = line.StartsWith("cpu0 ", StringComparison.Ordinal) ? 0 : line.StartsWith("cpu1 ", StringComparison.Ordinal) ? 1 : -1;
                if (cpu < 0) continue;
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                res[2 * cpu] = f[0] + f[1] + f[2] + f[5] + f[6];
                res[2 * cpu + 1] = f[3] + f[4];
            }
            return res;
        }
        catch (Exception ex) when (ex is IOException or FormatException) { return null; }
    }

    private static double Busy(long[] a, long[] b, int cpu)
    {
        double busy = b[2 * cpu] - a[2 * cpu], idle = b[2 * cpu + 1] - a[2 * cpu + 1];
        return 100 * busy / (busy + idle + 1e-9);
    }

    private static readonly ManualResetEventSlim s_probeClock = new(false);   // never set: a plain timed wait

    /// <summary>Waits (bounded) until both CPUs are ≤10% busy, as peers/measure.sh does. False if it timed out.</summary>
    private static bool WaitQuiet(double maxSeconds)
    {
        var sw = Stopwatch.StartNew();
        int probeMs = maxSeconds >= 5 ? 500 : 200;
        while (true)
        {
            var a = ReadCpus();
            s_probeClock.Wait(probeMs);              // the sampling interval itself: CPU busy % over probeMs
            var b = ReadCpus();
            if (a is null || b is null) return true;
            double busy = (Busy(a, b, 0) + Busy(a, b, 1)) / 2;
            if (busy <= 10) return true;
            if (sw.Elapsed.TotalSeconds >= maxSeconds) return false;
        }
    }
}
