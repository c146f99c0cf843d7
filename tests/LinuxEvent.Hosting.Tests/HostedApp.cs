using System.Reflection;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// Starts tests/apps/HostedTestApp as a child process the way systemd does: optionally a listening socket as fd 3
/// with LISTEN_FDS/LISTEN_FDNAMES, and LISTEN_PID/WATCHDOG_PID set to the child's own pid (a /bin/sh wrapper exports
/// <c>$$</c> and execs dotnet, so the pid is the app's). stdout and stderr go to a log file. The child is reaped
/// through a pidfd (Loop.WatchProcess), bounded in time, and killed on dispose if still running.
/// </summary>
public sealed class HostedApp : IDisposable
{
    private readonly Loop _reaper = Loop.CreateReactor();
    private readonly string _log = Path.Combine(Path.GetTempPath(), $"hosted-test-app-{Guid.NewGuid():N}.log");
    private ProcessExit? _exit;

    public HostedApp(IReadOnlyList<string> arguments, int? activatedSocket, IReadOnlyDictionary<string, string> environment)
    {
        string app = typeof(HostedApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HostedTestApp").Value!;
        Assert.That(File.Exists(app), Is.True, $"{app} is built");
        var env = new Dictionary<string, string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string)e.Value!;
        foreach (var name in new[] { "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID" }) env.Remove(name);
        foreach (var (k, v) in environment) env[k] = v;
        env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var fdMap = new List<(int, int)>();
        int log = OpenLog();
        try
        {
            fdMap.Add((log, 1));
            fdMap.Add((log, 2));
            if (activatedSocket is { } fd)
            {
                fdMap.Add((fd, 3));
                env["LISTEN_FDS"] = "1";
                env["LISTEN_FDNAMES"] = "echo";
            }
            var argv = new List<string> { "-c", "export LISTEN_PID=$$ WATCHDOG_PID=$$; exec \"$@\"", "sh", "dotnet", app };
            argv.AddRange(arguments);
            Pid = Posix.Spawn("/bin/sh", argv, env.Select(kv => $"{kv.Key}={kv.Value}").ToList(), fdMap: fdMap);
        }
        finally { Posix.Close(log); }
        _reaper.WatchProcess(Pid, (_, e) => _exit = e);
    }

    public int Pid { get; }

    /// <summary>Everything the app printed so far.</summary>
    public string Output => File.Exists(_log) ? File.ReadAllText(_log) : "";

    public bool HasExited
    {
        get
        {
            _reaper.RunOnce(TimeSpan.Zero);
            return _exit is not null;
        }
    }

    /// <summary>Waits (bounded) for the app to exit and returns how it did.</summary>
    public ProcessExit WaitForExit(TimeSpan timeout)
    {
        _reaper.RunUntil(() => _exit is not null, timeout);
        return _exit!.Value;
    }

    public void Signal(int signal) => Posix.Kill(Pid, signal);

    private int OpenLog()
    {
        var handle = File.OpenHandle(_log, FileMode.Create, FileAccess.Write);
        // Hand the fd to the child; the handle's own fd is closed by the caller after the spawn.
        int fd = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid();
        return fd;
    }

    public void Dispose()
    {
        if (_exit is null)
        {
            try { Posix.Kill(Pid, 9); } catch (LinuxEventException) { }
            try { _reaper.RunUntil(() => _exit is not null, TimeSpan.FromSeconds(10)); } catch (AssertionException) { }
        }
        _reaper.Dispose();
        if (File.Exists(_log)) File.Delete(_log);
    }
}
