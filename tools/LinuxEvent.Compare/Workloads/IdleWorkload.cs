using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Compare;

/// <summary>
/// Idle connections (issue 14's density workload): this tool opens CONNS connections to the server, each echoing one
/// small message and then staying idle, and reads the server's RSS. The figure is the marginal cost: the RSS growth
/// between the first half and all of the connections, divided by the second half. Fixed costs (JIT, tiering, the
/// loop's shared receive buffer or ring, GC regions touched first) land in the first half and cancel out. 10,000
/// connections normally (a process may hold at most 20,000 fds here), 1,000 with <c>--quick</c>. ci/bench-idle.sh
/// measures the example servers the same way at 15,000 connections, with a separate client process and warm-up rounds.
/// </summary>
internal sealed class IdleWorkload : Workload
{
    private const string BytesPerConn = "idle_b_per_conn", RssMib = "idle_rss_mib", Connected = "idle_conns";
    private static readonly byte[] s_hello = "hello\n"u8.ToArray();

    public override string Name => "idle";
    public override int Order => 1;
    public override WorkloadGroup Group => IdleGroup;

    private static int Conns(Settings s) => s.Quick ? 1_000 : 10_000;

    public override string Title => "idle: 10,000 connections (--quick: 1,000), one 6 B echo each, then idle; server RSS growth per connection";

    public override IReadOnlyDictionary<string, string> Parameters => new Dictionary<string, string>
    {
        ["mode"] = "idle", ["conns"] = "10000 (1000 with --quick)", ["exchange"] = "6 B echo", ["measure"] = "RSS(N) - RSS(N/2), / (N/2)",
    };

    public override double EstimateSeconds(Settings s) => s.Quick ? 3 : 12;

    public override RunResult Run(RunContext ctx, ServerSpec server, int rep)
    {
        var r = new RunResult { Workload = this, Server = server, Load = ctx.Load, Rep = rep };
        bool quiet = Runner.WaitQuiet(ctx.Settings.QuietWait);
        int n = Conns(ctx.Settings), half = n / 2;
        var clients = new List<Socket>(n);
        Spawned? srv = null;
        try
        {
            srv = ctx.Runner.StartServer(server, out int port, out string? why);
            r.ServerCommand = srv?.CommandLine;
            if (srv is null) return Runner.Fail(r, why!);
            r.LoadCommand = $"(in process) {n} connections to 127.0.0.1:{port}, 6 B echo each";
            var settle = TimeSpan.FromSeconds(ctx.Settings.Quick ? 1.5 : 5);
            if (Open(clients, half, port) is { } e1) return Runner.Fail(r, e1);
            long rssHalf = SettledRss(srv.Pid, settle);
            if (Open(clients, n - half, port) is { } e2) return Runner.Fail(r, e2);
            long rssAll = SettledRss(srv.Pid, settle);
            if (srv.HasExited) return Runner.Fail(r, $"server exited during the run (code {srv.Process.ExitCode}): {srv.StderrTail()}");
            if (rssHalf <= 0 || rssAll <= 0) return Runner.Fail(r, "could not read the server's VmRSS");
            r.Metrics[Connected] = clients.Count;
            r.Metrics[BytesPerConn] = (double)(rssAll - rssHalf) / (n - half);
            r.Metrics[RssMib] = rssAll / 1048576.0;
            r.LoadLine = string.Create(CultureInfo.InvariantCulture, $"conns={clients.Count} rss_half={rssHalf} rss_all={rssAll} errors=0");
            r.Ok = true;
            if (!quiet) r.Flag = "noisy";
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Runner.Fail(r, ex.Message);
        }
        finally
        {
            // A reset (linger 0) leaves no TIME_WAIT behind: several runs of 10,000 connections would exhaust the
            // ephemeral ports otherwise.
            foreach (var c in clients)
            {
                try { c.LingerState = new LingerOption(true, 0); } catch (SocketException) { }
                c.Dispose();
            }
            if (srv is not null)
            {
                srv.Stop(TimeSpan.FromSeconds(5));
                if (server.Ours && srv.HasExited && srv.Process.ExitCode != 0)
                    r.Warning = $"{server.Display} exited with code {srv.Process.ExitCode} after SIGTERM (expected 0): {srv.StderrTail()}";
                srv.Dispose();
            }
        }
        return r;
    }

    /// <summary>Opens <paramref name="count"/> more connections, each echoing one message (so the server has accepted and
    /// served it); null, or what went wrong.</summary>
    private static string? Open(List<Socket> into, int count, int port)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var reply = new byte[s_hello.Length];
        for (int i = 0; i < count; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
            into.Add(s);
            s.Connect(endpoint);
            s.Send(s_hello);
            for (int got = 0; got < reply.Length;)
            {
                int k = s.Receive(reply, got, reply.Length - got, SocketFlags.None);
                if (k == 0) return $"connection {into.Count}: the server closed it before echoing";
                got += k;
            }
            if (!reply.AsSpan().SequenceEqual(s_hello)) return $"connection {into.Count}: echoed bytes differ";
        }
        return null;
    }

    /// <summary>VmRSS once it stopped moving (two 250 ms samples in a row within 64 KiB), at most <paramref name="max"/>.</summary>
    private static long SettledRss(int pid, TimeSpan max)
    {
        var sw = Stopwatch.StartNew();
        long last = Rss(pid);
        int stable = 0;
        while (stable < 2 && sw.Elapsed < max)
        {
            Thread.Sleep(250);
            long now = Rss(pid);
            stable = Math.Abs(now - last) < 64 * 1024 ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    private static long Rss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return -1;
    }

    public override string ProgressText(RunResult r) =>
        $"{Fmt.N0(r[BytesPerConn]),7} B/conn, RSS {Fmt.F(r[RssMib], "0.0")} MiB";

    public static readonly WorkloadGroup IdleGroup = new()
    {
        Name = "idle",
        Order = 3,
        Heading = "Idle connections: server memory per connection (ratios: / baseline, lower is better)",
        Legend = "B/conn: server RSS growth per idle connection (marginal: from N/2 to N connections); /x: ratio to " +
                 "server x; RSS: server RSS with all N open (MiB); 100k: RSS extrapolated to 100,000 connections (MiB)",
        Explanation =
            "Idle connections: the tool opens N connections (10,000; 1,000 with `--quick`), each echoes one 6-byte message " +
            "and then stays idle. `B/conn` is the server's VmRSS growth from N/2 to N connections divided by N/2, so fixed " +
            "costs (JIT, the loop's shared receive memory, first GC regions) cancel out; `100k conns` extrapolates the RSS " +
            "at N with that slope. Kernel memory (socket buffers, epoll items, io_uring requests) is not in the RSS.",
        RatioMetrics = [BytesPerConn],
        ChartPanels = [new("server RSS per idle connection", BytesPerConn, false, "B")],
        Columns =
        [
            new("wl", "workload", 4, c => c.Row.Workload.Name, Left: true),
            new("server", "server", 19, c => c.Row.Server.Short, Left: true),
            new("B/conn", "bytes per connection", 7, c => Fmt.N0(c.Row.Median(BytesPerConn))),
            new("", "min..max", 0, c => $"{Fmt.N0(c.Row.Min(BytesPerConn))}..{Fmt.N0(c.Row.Max(BytesPerConn))}"),
            new("/epoll", "÷ C epoll", 6, c => Fmt.Ratio(c, "epoll", BytesPerConn)),
            new("/uring", "÷ C liburing", 6, c => Fmt.Ratio(c, "uring", BytesPerConn)),
            new("/.NET", "÷ .NET Sockets", 6, c => Fmt.Ratio(c, "sockets", BytesPerConn)),
            new("RSS", "RSS at N (MiB)", 6, c => Fmt.F(c.Row.Median(RssMib), "0.0")),
            new("100k", "100k conns (MiB, est.)", 6, c => Fmt.F(At100k(c.Row), "0")),
            new("runs", "", 4, c => c.Row.RunsShort),
            new("", "runs", 0, c => c.Row.RunsLong, Left: true),
        ],
    };

    private static double At100k(Summary row)
    {
        double perConn = row.Median(BytesPerConn), rss = row.Median(RssMib), n = row.Median(Connected);
        return double.IsNaN(perConn) || double.IsNaN(rss) || double.IsNaN(n) ? double.NaN : rss + perConn * (100_000 - n) / 1048576.0;
    }
}
