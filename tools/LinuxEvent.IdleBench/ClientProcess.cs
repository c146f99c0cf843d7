using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace LinuxEvent.IdleBench;

/// <summary>The client process (this program with <c>client</c>): holds N idle connections until told to close them.</summary>
internal sealed class ClientProcess : IDisposable
{
    private readonly Process _process;

    private ClientProcess(Process process) => _process = process;

    /// <summary>Starts the client; it connects at once.</summary>
    public static ClientProcess Start(int port, int connections, Protocol protocol)
    {
        // Run the same program: under `dotnet X.dll` ProcessPath is the muxer and the dll comes first.
        string self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "client", "--port", port.ToString(CultureInfo.InvariantCulture),
                     "--connections", connections.ToString(CultureInfo.InvariantCulture), "--exchange", protocol.ToString() })
            psi.ArgumentList.Add(a);
        return new ClientProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start the client process"));
    }

    /// <summary>Waits for the client's <c>ready OK FAILED [error]</c> line.</summary>
    public (int Ok, int Failed, string Error) WaitReady(TimeSpan timeout)
    {
        var read = _process.StandardOutput.ReadLineAsync();
        if (!read.Wait(timeout)) throw new TimeoutException($"the client did not connect within {timeout.TotalSeconds:0} s");
        var line = read.Result ?? throw new IOException("the client exited before it was ready");
        var f = line.Split(' ', 4);
        if (f.Length < 3 || f[0] != "ready") throw new IOException($"unexpected client output: {line}");
        return (int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), f.Length > 3 ? f[3] : "");
    }

    /// <summary>Tells the client to reset every connection and waits for it to exit.</summary>
    public void Close()
    {
        if (_process.HasExited) return;
        _process.StandardInput.WriteLine("close");
        _process.StandardInput.Flush();
        if (!_process.WaitForExit(60_000)) _process.Kill();
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
}
