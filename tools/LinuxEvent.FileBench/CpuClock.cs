using System.Diagnostics;

namespace LinuxEvent.FileBench;

/// <summary>This process's CPU time (user + system, all threads: the loop, file workers, the thread pool, the GC).</summary>
internal static class CpuClock
{
    public static double Seconds()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalSeconds;
    }
}
