using System.Globalization;

namespace LinuxEvent.FileBench;

/// <summary>One engine's measurement over the timed window (after the warm-up).</summary>
internal sealed record Result(string Engine, long Ios, double Seconds, double CpuSeconds, string Note = "")
{
    public double Iops => Ios / Seconds;

    /// <summary>Process CPU time (user + system, every thread) per completed I/O, in microseconds.</summary>
    public double CpuMicrosPerIo => Ios == 0 ? double.NaN : CpuSeconds * 1e6 / Ios;

    public string Line(Options o) => string.Create(CultureInfo.InvariantCulture,
        $"filebench: engine={Engine} direct={(o.Direct ? 1 : 0)} bs={o.BlockSize} depth={o.Depth} ios={Ios} seconds={Seconds:F2} iops={Iops:F0} cpu_s={CpuSeconds:F3} cpu_us_per_io={CpuMicrosPerIo:F2}{(Note.Length > 0 ? " " + Note : "")}");
}
