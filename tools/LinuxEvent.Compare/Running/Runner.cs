using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Compare;

/// <summary>
/// Runs things: waits for quiet CPUs, starts a server pinned to CPU 0 and waits until it listens, starts a load
/// generator pinned to CPU 1, samples CPU over the measured window, stops everything by PID, and appends each run
/// attempt's line to raw.log. <see cref="RunLoad"/> is the whole sequence for a workload driven by a load generator; the parts are
/// public for workloads that need another sequence.
/// </summary>
internal sealed class Runner(Settings settings, TextWriter rawLog)
{
    private readonly bool _pin = settings.Pin != "none" && (File.Exists("/usr/bin/taskset") || File.Exists("/bin/taskset"));

    public bool Pinning => _pin;
    public int ServerCpu => 0;
    public int LoadCpu => Environment.ProcessorCount > 1 ? 1 : 0;

    /// <summary>How long a server may live: the run plus margins; passed to the servers that take a bound.</summary>
    public int ServerLifetimeSeconds => (int)Math.Ceiling(settings.Warmup + settings.Seconds + 60);

    /// <summary>Starts <paramref name="server"/> on a free port, pinned to the server CPU, and waits (bounded) until it
    /// listens. Returns null and sets <paramref name="error"/> when it does not.</summary>
    public Spawned? StartServer(ServerSpec server, out int port, out string? error)
    {
        port = FreePort();
        string p = port.ToString(CultureInfo.InvariantCulture), life = ServerLifetimeSeconds.ToString(CultureInfo.InvariantCulture);
        var srv = Spawned.Start(server.Executable, server.Arguments.Select(a => a.Replace("@PORT@", p).Replace("@LIFETIME@", life)), _pin ? ServerCpu : null);
        if (WaitListening(port, srv, settings.PortTimeout, out error)) return srv;
        srv.Stop(TimeSpan.FromSeconds(5));
        error = $"{error}; server said: {srv.StderrTail()}";
        if (srv.HasExited) server.Failed = error;           // it cannot start here (e.g. io_uring unavailable): skip later runs
        srv.Dispose();
        return null;
    }

    /// <summary>Starts a helper process (a load generator) pinned to the load CPU.</summary>
    public Spawned StartPinned(string exe, IEnumerable<string> args) => Spawned.Start(exe, args, _pin ? LoadCpu : null);

    /// <summary>
    /// One run of a load generator against a fresh server process: <paramref name="loadArgs"/> plus "-p PORT"; the
    /// generator's key=value line becomes the metrics, plus server CPU over the measured window (from the end of the
    /// warm-up to the generator's exit), CPU busy figures, and for our servers allocation per message.
    /// </summary>
    public RunResult RunLoad(Workload workload, ServerSpec server, LoadSpec load, int rep, IReadOnlyList<string> loadArgs, int messageBytes)
    {
        var r = new RunResult { Workload = workload, Server = server, Load = load, Rep = rep };
        bool quiet = WaitQuiet(settings.QuietWait);
        Spawned? srv = null;
        try
        {
            srv = StartServer(server, out int port, out string? why);
            r.ServerCommand = srv?.CommandLine;
            if (srv is null) return Fail(r, why!);
            using var ld = StartPinned(load.Executable, loadArgs.Concat(["-p", port.ToString(CultureInfo.InvariantCulture)]));
            r.LoadCommand = ld.CommandLine;
            // The generator measures from the end of its warm-up: sample the CPUs over (about) the same window. Waiting on
            // the generator (not sleeping) returns at once if it dies during the warm-up.
            ld.WaitForExit(TimeSpan.FromSeconds(settings.Warmup));
            if (server.Ours) srv.Signal(10);                 // SIGUSR1: our server prints a mark line (allocations, gen0)
            var (cpuA, srvA, tA) = (CpuStats.Cpus(), CpuStats.ProcessTicks(srv.Pid), Stopwatch.GetTimestamp());
            var budget = TimeSpan.FromSeconds(settings.Seconds + settings.Warmup + 30);
            if (!ld.WaitForExit(budget))
            {
                ld.Stop(TimeSpan.FromSeconds(1));
                return Fail(r, $"load generator did not finish within {budget.TotalSeconds:F0} s");
            }
            ld.WaitForExit(Timeout.InfiniteTimeSpan);         // flush the output readers
            var (cpuB, srvB, tB) = (CpuStats.Cpus(), CpuStats.ProcessTicks(srv.Pid), Stopwatch.GetTimestamp());
            r.LoadLine = ld.Stdout.Trim();
            foreach (var (k, v) in RawLog.ParseKv(r.LoadLine))
                if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) r.Metrics[k] = d;
            double window = Stopwatch.GetElapsedTime(tA, tB).TotalSeconds;
            if (srvA is { } a && srvB is { } b && window > 0)
            {
                double cpuSeconds = (b - a) / CpuStats.ClockTicks;
                r.Metrics[Metric.ServerCpu] = 100.0 * cpuSeconds / window;
                // Per message: the server's CPU time over the sampled span ÷ the messages of the measured window (msgs_per_s
                // × secs). The span can outlast the window (an open-loop run waits for late echoes), but so do the messages.
                double msgs = r[Metric.MsgsPerSec] * r["secs"];
                if (msgs > 0) r.Metrics[Metric.ServerUsPerMsg] = cpuSeconds * 1e6 / msgs;
            }
            if (cpuA is not null && cpuB is not null)
            {
                r.Metrics[Metric.Cpu0Busy] = CpuStats.Busy(cpuA, cpuB, 0);
                r.Metrics[Metric.Cpu1Busy] = CpuStats.Busy(cpuA, cpuB, 1);
                if (r.Has(Metric.ServerCpu) && r.Has(Metric.ClientCpu))
                    r.Metrics[Metric.OtherCpu] = r[Metric.Cpu0Busy] + r[Metric.Cpu1Busy] - r[Metric.ServerCpu] - r[Metric.ClientCpu];
            }
            if (ld.Process.ExitCode != 0 || r[Metric.MsgsPerSec] is double.NaN || !r.LoadLine.Contains("errors=0", StringComparison.Ordinal))
                return Fail(r, $"load generator exit {ld.Process.ExitCode}: {ld.StderrTail()} {r.LoadLine}".Trim());
            if (srv.HasExited) return Fail(r, $"server exited during the run (code {srv.Process.ExitCode}): {srv.StderrTail()}");
            r.Ok = true;
            if (!quiet || r[Metric.OtherCpu] > 10) r.Flag = "noisy";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            Fail(r, ex.Message);
        }
        finally
        {
            if (srv is not null)
            {
                srv.Stop(TimeSpan.FromSeconds(5));
                if (server.Ours && srv.HasExited && srv.Process.ExitCode != 0)
                    r.Warning = $"{server.Display} exited with code {srv.Process.ExitCode} after SIGTERM (expected 0): {srv.StderrTail()}";
                if (server.Ours && r.Ok) AddAllocation(srv.Stderr, r, messageBytes);
                srv.Dispose();
            }
        }
        return r;
    }

    public static RunResult Fail(RunResult r, string error)
    {
        r.Ok = false;
        r.Flag = "FAILED";
        r.Error = error;
        return r;
    }

    /// <summary>Appends the line of a run attempt to raw.log.</summary>
    public void Log(RunResult r)
    {
        rawLog.WriteLine(RawLog.Line(r));
        rawLog.Flush();
    }

    /// <summary>
    /// From our echo-server's "mark" line (SIGUSR1 at the window start) and its "exit" line (after SIGTERM): allocated
    /// bytes per message echoed in between, and gen0 collections. The span covers the window plus the shutdown, during
    /// which no messages flow.
    /// </summary>
    private static void AddAllocation(string stderr, RunResult r, int messageBytes)
    {
        var lines = stderr.Split('\n');
        var mark = lines.FirstOrDefault(l => l.Contains(" mark ", StringComparison.Ordinal));
        var exit = lines.LastOrDefault(l => l.Contains(" exit ", StringComparison.Ordinal));
        if (mark is null || exit is null) return;
        var (a, b) = (RawLog.ParseKv(mark), RawLog.ParseKv(exit));
        double Get(Dictionary<string, string> kv, string k) => kv.TryGetValue(k, out var v) && double.TryParse(v, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
        double alloc = Get(b, "alloc_bytes") - Get(a, "alloc_bytes");
        double msgs = (Get(b, "bytes") - Get(a, "bytes")) / messageBytes;
        if (double.IsNaN(alloc) || !(msgs > 0)) return;
        r.Metrics[Metric.AllocPerMsg] = alloc / msgs;
        r.Metrics[Metric.Gen0] = Get(b, "gen0") - Get(a, "gen0");
    }

    // ---------------------------------------------------------------- ports

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Waits until something listens on 127.0.0.1:port, reading /proc/net/tcp (never connecting, so the server
    /// sees no extra connection). Bounded by <paramref name="timeoutSeconds"/>; ends at once if the server exits.</summary>
    private static bool WaitListening(int port, Spawned srv, double timeoutSeconds, out string? why)
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
            if (srv.WaitForExit(TimeSpan.FromMilliseconds(10))) { why = $"server exited with code {srv.Process.ExitCode} before listening"; return false; }
        }
        why = $"server not listening on port {port} after {timeoutSeconds:F0} s";
        return false;
    }

    // ---------------------------------------------------------------- quiet CPUs

    private static readonly ManualResetEventSlim s_never = new(false);   // never set: a plain timed wait

    /// <summary>Waits (at most <paramref name="maxSeconds"/>) until both CPUs are at most 10% busy. False if it timed out.</summary>
    public static bool WaitQuiet(double maxSeconds)
    {
        var sw = Stopwatch.StartNew();
        int probeMs = maxSeconds >= 5 ? 500 : 150;
        while (true)
        {
            var a = CpuStats.Cpus();
            s_never.Wait(probeMs);                      // the sampling interval itself
            var b = CpuStats.Cpus();
            if (a is null || b is null) return true;
            if ((CpuStats.Busy(a, b, 0) + CpuStats.Busy(a, b, 1)) / 2 <= 10) return true;
            if (sw.Elapsed.TotalSeconds >= maxSeconds) return false;
        }
    }
}
