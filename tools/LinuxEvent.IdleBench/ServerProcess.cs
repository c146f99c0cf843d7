using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace LinuxEvent.IdleBench;

/// <summary>A server under measurement: started on a free port, observed through /proc/PID, stopped by its PID.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the server wrote to stderr/stdout (for error reports).</summary>
    public string Output
    {
        get { lock (_stderr) return _stderr.ToString().Trim(); }
    }

    public static ServerProcess Start(ServerSpec spec)
    {
        int port = FreePort();
        var psi = new ProcessStartInfo(spec.Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in spec.Arguments) psi.ArgumentList.Add(a.Replace("@PORT@", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {spec.Executable}");
        var server = new ServerProcess(p, port);
        p.ErrorDataReceived += (_, e) => server.Append(e.Data);
        p.OutputDataReceived += (_, e) => server.Append(e.Data);
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_stderr)
        {
            if (_stderr.Length > 16_000) _stderr.Remove(0, 8_000);
            _stderr.AppendLine(line);
        }
    }

    /// <summary>Waits until the port is in LISTEN state (read from /proc/net/tcp: no probe connection is made).</summary>
    public bool WaitListening(TimeSpan timeout)
    {
        string hexPort = ":" + Port.ToString("X4", CultureInfo.InvariantCulture);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && !_process.HasExited)
        {
            foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 3 && f[1].EndsWith(hexPort, StringComparison.Ordinal) && f[3] == "0A") return true;
            }
            Thread.Sleep(100);
        }
        return false;
    }

    /// <summary>Open sockets of the server (fds whose link reads <c>socket:[inode]</c>): the connections it holds, plus
    /// the listener and whatever sockets it keeps for itself. Other fds (the runtime opens files lazily) do not count.</summary>
    public int SocketCount()
    {
        try
        {
            int n = 0;
            foreach (var fd in Directory.EnumerateFiles($"/proc/{Pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true) n++;
                }
                catch (IOException) { }           // closed while we looked
            }
            return n;
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    /// <summary>VmRSS and RssAnon in bytes, from /proc/PID/status.</summary>
    public (long Rss, long Anon) Memory()
    {
        long rss = 0, anon = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line);
        }
        return (rss, anon);

        static long Kb(string line) => 1024 * long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout || _process.HasExited) return false;
            Thread.Sleep(250);
        }
        return true;
    }

    /// <summary>SIGTERM, then SIGKILL after 20 s; returns the exit code (or null if it had to be killed).</summary>
    public int? Stop()
    {
        if (!_process.HasExited) Kill(Pid, 15);
        if (!_process.WaitForExit(20_000))
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
            _process.WaitForExit();
            return null;
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
