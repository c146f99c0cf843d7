using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LinuxEvent.Compare;

/// <summary>The environment a run was made in, for results.json and results.md.</summary>
internal sealed class MachineInfo
{
    public string Kernel = "?", CpuModel = "?", Os = "?", Dotnet = RuntimeInformation.FrameworkDescription, DotnetSdk = "?", Gcc = "?", Liburing = "?";
    public string IoUringDisabled = "?";
    public int Cpus = Environment.ProcessorCount;

    /// <summary>Set when re-rendering an earlier run: its recorded description, which <see cref="Describe"/> returns.</summary>
    public string? Recorded;

    public static MachineInfo Read()
    {
        var m = new MachineInfo();
        m.Kernel = Try(() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
        m.CpuModel = Try(() => File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim());
        m.Os = Try(() => File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"'));
        m.IoUringDisabled = Try(() => File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim());
        m.DotnetSdk = Exec("dotnet", "--version") ?? "?";
        m.Gcc = (Exec("gcc", "--version") ?? "?").Split('\n')[0];
        m.Liburing = Exec("dpkg-query", "-W -f=${Version} liburing-dev") ?? Exec("pkg-config", "--modversion liburing") ?? "?";
        return m;
    }

    /// <summary>One line for reports.</summary>
    public string Describe() => Recorded ??
        $"{Cpus} CPUs ({CpuModel}), kernel {Kernel}, {Os}, {Dotnet} (SDK {DotnetSdk}), {Gcc}, liburing {Liburing}";

    private static string Try(Func<string?> read)
    {
        try { return read() ?? "?"; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>The trimmed standard output of a short command, or null (not installed, failed, or slower than 10 s).</summary>
    private static string? Exec(string exe, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(10))) { p.Kill(); return null; }
            string s = output.Result.Trim();
            return p.ExitCode == 0 && s.Length > 0 ? s : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
