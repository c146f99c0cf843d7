using System.Globalization;

namespace LinuxEvent.IdleBench;

/// <summary>Runs every (server, model, connection count) measurement in turn and reports them.</summary>
internal sealed class IdleRunner(BenchOptions options, TextWriter log)
{
    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(180);
    internal const int WarmupRounds = 3;

    public int RunAll()
    {
        var results = new List<IdleResult>();
        var notes = new List<string>();
        log.WriteLine($"idle-bench: {Environment.ProcessorCount} CPUs, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, " +
                      $"exchange {(options.Exchange ? "hello" : "none")}, warm-up {options.Warmup} connections");
        foreach (var name in options.Servers)
        {
            var models = name == "sockets-echo" ? ["-"] : options.Models;
            foreach (var model in models)
            {
                var spec = ServerCatalog.Resolve(options.Repo, name, model, out string? missing);
                if (spec is null)
                {
                    notes.Add($"{name}: skipped, not built: {missing}");
                    log.WriteLine($"idle-bench: {notes[^1]}");
                    continue;
                }
                if (!options.Exchange) spec = spec with { Protocol = Protocol.None };
                foreach (int n in options.Connections)
                    for (int rep = 0; rep < options.Repeat; rep++)
                    {
                        var r = Measure(spec, n);
                        results.Add(r);
                        log.WriteLine(Line(r));
                    }
            }
        }
        string table = Report.Markdown(results, notes, options);
        log.WriteLine();
        log.WriteLine(table);
        if (options.Out is { } path) File.WriteAllText(path, table);
        return results.Any(r => r.Error is not null) ? 1 : 0;
    }

    private IdleResult Measure(ServerSpec spec, int n)
    {
        var r = new IdleResult { Server = spec, Requested = n };
        using var server = ServerProcess.Start(spec);
        try
        {
            if (!server.WaitListening(ListenTimeout))
            {
                r.Error = $"did not listen within {ListenTimeout.TotalSeconds:0} s: {server.Output}";
                return r;
            }
            int fd0 = server.SocketCount();
            // JIT, tiering, the loop's lazily created shared buffers and pools belong to the server's fixed cost, not to
            // the connections measured. Three rounds, 2 s apart: tiered compilation starts counting calls only once no
            // new method has been jitted for a while, so the later rounds are what get the hot paths rejitted at tier 1
            // (the JIT's native memory, about 5 MiB, would otherwise land in the measurement).
            for (int round = 0; round < WarmupRounds && options.Warmup > 0; round++)
            {
                if (round > 0) Thread.Sleep(2000);
                using var warm = ClientProcess.Start(server.Port, options.Warmup, spec.Protocol);
                var (ok, _, error) = warm.WaitReady(ConnectTimeout);
                if (ok < options.Warmup) { r.Error = $"warm-up: {options.Warmup - ok} connections failed: {error}"; return r; }
                server.WaitFor(() => server.SocketCount() >= fd0 + ok, TimeSpan.FromSeconds(30));
                warm.Close();
                if (!server.WaitFor(() => server.SocketCount() <= fd0, TimeSpan.FromSeconds(30)))
                {
                    r.Error = $"warm-up: the server still holds {server.SocketCount() - fd0} connections 30 s after they were reset";
                    return r;
                }
            }
            (r.RssBefore, r.AnonBefore) = Settle(server);

            using var client = ClientProcess.Start(server.Port, n, spec.Protocol);
            (r.Connected, r.Failed, string firstError) = client.WaitReady(ConnectTimeout);
            if (r.Failed > 0) r.Error = $"{r.Failed} connections failed: {firstError}";
            if (!server.WaitFor(() => server.SocketCount() >= fd0 + r.Connected, TimeSpan.FromSeconds(60)))
                r.Error ??= $"the server holds {server.SocketCount() - fd0} of {r.Connected} connections";
            (r.RssAfter, r.AnonAfter) = Settle(server);

            client.Close();
            if (!server.WaitFor(() => server.SocketCount() <= fd0, TimeSpan.FromSeconds(60)))
                r.Error ??= $"the server still holds {server.SocketCount() - fd0} connections 60 s after they were reset";
            r.RssAfterClose = server.Memory().Rss;
            r.ExitCode = server.Stop();
            if (r.ExitCode != 0) r.Error ??= $"exit code {(r.ExitCode is { } c ? c.ToString(CultureInfo.InvariantCulture) : "none (killed after 20 s)")} after SIGTERM: {server.Output}";
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            r.Error = $"{ex.Message}; server said: {server.Output}";
        }
        return r;
    }

    /// <summary>RSS once it has stopped moving: three 500 ms samples in a row within 128 KiB, at most 15 s.</summary>
    private static (long Rss, long Anon) Settle(ServerProcess server)
    {
        var last = server.Memory();
        int stable = 0;
        for (int i = 0; i < 30 && stable < 3; i++)
        {
            Thread.Sleep(500);
            var now = server.Memory();
            stable = Math.Abs(now.Rss - last.Rss) < 128 * 1024 ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    private static string Line(IdleResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        string exit = r.ExitCode?.ToString(inv) ?? "-";
        string error = r.Error is null ? "" : "  ERROR: " + r.Error;
        return string.Create(inv, $"idle-bench: {r.Server.Display,-26} n={r.Requested,6} connected={r.Connected,6} rss {r.RssBefore / 1048576.0,7:0.0} -> {r.RssAfter / 1048576.0,7:0.0} MiB = {r.BytesPerConnection,8:0} B/conn (anon {r.AnonPerConnection,8:0}), after close {r.RssAfterClose / 1048576.0:0.0} MiB, exit {exit}{error}");
    }
}
