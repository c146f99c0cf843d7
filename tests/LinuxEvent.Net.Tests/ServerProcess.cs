using System.Reflection;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// A server program (a built .dll) run as a child process under a lowered fd limit: <c>/bin/sh -c 'ulimit -n N; exec
/// dotnet ...'</c>, so the pid is the server's own. Both the soft and the hard limit are lowered: the .NET runtime raises
/// its soft RLIMIT_NOFILE to the hard limit at startup, so a lowered soft limit alone (prlimit --nofile=256:20000) has no
/// effect on a .NET server. stdout and stderr go to a log file. The child is reaped through
/// a pidfd (Loop.WatchProcess), waits are bounded, and it is killed on dispose if still running; the log is deleted.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Loop _reaper = Loop.CreateReactor();
    private readonly string _log = Path.Combine(Path.GetTempPath(), $"server-process-{Guid.NewGuid():N}.log");
    private ProcessExit? _exit;

    public ServerProcess(string dll, IReadOnlyList<string> arguments, int fdLimit)
    {
        Assert.That(File.Exists(dll), Is.True, $"{dll} is built");
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env.Add($"{e.Key}={e.Value}");
        env.Add("DOTNET_CLI_TELEMETRY_OPTOUT=1");
        var handle = File.OpenHandle(_log, FileMode.Create, FileAccess.Write);
        int log = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid();           // the fd goes to the child; ours is closed below
        try
        {
            var argv = new List<string> { "-c", $"ulimit -n {fdLimit} && exec \"$@\"", "sh", "dotnet", dll };
            argv.AddRange(arguments);
            Pid = Posix.Spawn("/bin/sh", argv, env, fdMap: [(log, 1), (log, 2)]);
        }
        finally { Posix.Close(log); }
        _reaper.WatchProcess(Pid, (_, e) => _exit = e);
    }

    /// <summary>The path of a program built next to this test assembly's sources (an AssemblyMetadata entry).</summary>
    public static string BuiltProgram(string key) =>
        typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public int Pid { get; }

    /// <summary>Everything the server printed so far.</summary>
    public string Output
    {
        get
        {
            using var stream = new FileStream(_log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
    }

    public bool HasExited
    {
        get
        {
            _reaper.RunOnce(TimeSpan.Zero);
            return _exit is not null;
        }
    }

    /// <summary>Waits (polling the log, bounded) until the output contains <paramref name="text"/>.</summary>
    public void WaitForOutput(string text, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.That(HasExited, Is.False, $"the server exited before printing '{text}':\n{Output}");
            Assert.That(Environment.TickCount64, Is.LessThan(deadline), $"no '{text}' within {timeout.TotalSeconds} s:\n{Output}");
            _reaper.RunOnce(TimeSpan.FromMilliseconds(20));     // a bounded wait that also reaps an early exit
        }
    }

    /// <summary>User plus system CPU time the server has used so far (/proc/PID/stat utime + stime).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{Pid}/stat");
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // f[0] is field 3 (state)
            long ticks = long.Parse(f[11]) + long.Parse(f[12]);             // fields 14 and 15, in USER_HZ (100/s)
            return TimeSpan.FromMilliseconds(ticks * 10);
        }
    }

    /// <summary>Open fds of the server.</summary>
    public int FdCount => Directory.GetFileSystemEntries($"/proc/{Pid}/fd").Length;

    public void Signal(int signal) => Posix.Kill(Pid, signal);

    /// <summary>Waits (bounded) for the server to exit and returns how it did.</summary>
    public ProcessExit WaitForExit(TimeSpan timeout)
    {
        _reaper.RunUntil(() => _exit is not null, timeout);
        return _exit!.Value;
    }

    public void Dispose()
    {
        if (_exit is null)
        {
            try { Posix.Kill(Pid, 9); } catch (LinuxEventException) { }
            try { _reaper.RunUntil(() => _exit is not null, TimeSpan.FromSeconds(10)); } catch (AssertionException) { }
        }
        _reaper.Dispose();
        File.Delete(_log);
    }
}
