using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace LinuxEvent.UdpBench;

/// <summary>
/// <c>run</c>: for each repetition, each implementation in turn (interleaved, so drift in the machine's load hits all
/// of them alike): starts this tool's echo server pinned to one CPU and its load generator pinned to another
/// (<c>taskset -c</c>; unpinned, and said so, without taskset), waits for the server's "listening" line, runs the
/// load, stops the server with SIGTERM. Prints each run's line, then one table of medians and the ratios to dotnet.
/// </summary>
internal static class Orchestrator
{
    private sealed record RunLine(string Impl, double Rate, double ServerUs, double ServerCpu, double ClientCpu, string Raw);

    public static int Run(Options o)
    {
        var impls = o.Text("impls", "reactor,proactor,dotnet").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int reps = o.Int("reps", 3, 1);
        string seconds = o.Int("seconds", 5, 1).ToString(CultureInfo.InvariantCulture);
        string warmup = o.Int("warmup", 1, 0).ToString(CultureInfo.InvariantCulture);
        string clients = o.Int("clients", 32, 1).ToString(CultureInfo.InvariantCulture);
        string depth = o.Int("depth", 32, 1).ToString(CultureInfo.InvariantCulture);
        string size = o.Int("size", 32, 1).ToString(CultureInfo.InvariantCulture);
        int serverCpu = o.Int("server-cpu", 0), clientCpu = o.Int("client-cpu", Environment.ProcessorCount > 1 ? 1 : 0);
        o.CheckAllUsed();
        foreach (var impl in impls)
            if (impl is not ("reactor" or "proactor" or "dotnet")) throw new ArgumentException($"unknown implementation '{impl}'");

        bool pin = File.Exists("/usr/bin/taskset") || File.Exists("/bin/taskset");
        Console.WriteLine($"udp echo: {clients} clients x depth {depth}, {size}-byte datagrams, {warmup} s warm-up + {seconds} s, {reps} rep(s); " +
            (pin ? $"server on CPU {serverCpu}, load generator on CPU {clientCpu}" : "NOT pinned (taskset missing)"));
        var lines = new List<RunLine>();
        double before = LoadAverage();
        for (int rep = 1; rep <= reps; rep++)
        {
            foreach (var impl in impls)
            {
                var line = RunOnce(impl, pin, serverCpu, clientCpu, ["--clients", clients, "--depth", depth, "--size", size, "--seconds", seconds, "--warmup", warmup]);
                if (line is null) return 1;
                Console.WriteLine($"  rep {rep} {impl,-8} {line.Raw}");
                lines.Add(line);
            }
        }

        Console.WriteLine();
        // Our two processes add about 2 to the load average; more than that means other work shared the CPUs.
        double after = LoadAverage();
        double busiest = Math.Max(before, after);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load average {before:F1} before, {after:F1} after the runs ({Environment.ProcessorCount} CPUs){(busiest > 2.5 ? ": other work shared the machine, so these figures are provisional" : "")}"));
        Console.WriteLine("| server | datagrams/s (median) | server µs/datagram | server CPU % | vs dotnet: rate | vs dotnet: CPU/datagram |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        var dotnet = lines.Where(l => l.Impl == "dotnet").ToList();
        double dRate = dotnet.Count > 0 ? Median(dotnet.Select(l => l.Rate)) : double.NaN;
        double dUs = dotnet.Count > 0 ? Median(dotnet.Select(l => l.ServerUs)) : double.NaN;
        foreach (var impl in impls)
        {
            var mine = lines.Where(l => l.Impl == impl).ToList();
            double rate = Median(mine.Select(l => l.Rate)), us = Median(mine.Select(l => l.ServerUs)), cpu = Median(mine.Select(l => l.ServerCpu));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {impl} | {rate:N0} | {us:F2} | {cpu:F0} | {rate / dRate:F2}x | {dUs / us:F2}x |"));
        }
        return 0;
    }

    private static RunLine? RunOnce(string impl, bool pin, int serverCpu, int clientCpu, string[] load)
    {
        int port = FreeUdpPort();
        using var server = Start(pin, serverCpu, ["server", "--impl", impl, "--port", port.ToString(CultureInfo.InvariantCulture)]);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.OutputDataReceived += (_, e) => { if (e.Data?.Contains("listening", StringComparison.Ordinal) == true) listening.TrySetResult(); };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [{impl} server] {e.Data}"); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            if (!listening.Task.Wait(TimeSpan.FromSeconds(30)))
            {
                Console.Error.WriteLine($"udpbench: the {impl} server did not start{(server.HasExited ? $" (exit code {server.ExitCode})" : "")}");
                return null;
            }
            using var client = Start(pin, clientCpu, ["client", "--port", port.ToString(CultureInfo.InvariantCulture), "--server-pid", server.Id.ToString(CultureInfo.InvariantCulture), .. load]);
            string output = client.StandardOutput.ReadToEnd();
            if (!client.WaitForExit(TimeSpan.FromMinutes(2)) || client.ExitCode != 0)
            {
                Console.Error.WriteLine($"udpbench: the load generator failed against {impl}: {output.Trim()} {client.StandardError.ReadToEnd().Trim()}");
                return null;
            }
            var kv = output.Trim().Split(' ').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            double Get(string k) => double.Parse(kv[k], CultureInfo.InvariantCulture);
            return new RunLine(impl, Get("dgrams_per_s"), Get("srv_us_per_dgram"), Get("srv_cpu"), Get("cli_cpu"), output.Trim());
        }
        finally
        {
            if (!server.HasExited)
            {
                Posix.Kill(server.Id, 15);
                if (!server.WaitForExit(TimeSpan.FromSeconds(10))) server.Kill();
            }
            server.WaitForExit();
        }
    }

    /// <summary>This tool again (apphost, or dotnet + the dll), under taskset when pinning.</summary>
    private static Process Start(bool pin, int cpu, string[] args)
    {
        string self = Environment.ProcessPath!;
        var argv = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") argv.Add(Assembly.GetEntryAssembly()!.Location);
        argv.AddRange(args);
        var psi = new ProcessStartInfo(pin ? "taskset" : self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (pin)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(cpu.ToString(CultureInfo.InvariantCulture));
            psi.ArgumentList.Add(self);
        }
        foreach (var a in argv) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {self}");
    }

    /// <summary>The 1-minute load average (/proc/loadavg), NaN if unreadable.</summary>
    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (IOException) { return double.NaN; }
    }

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
