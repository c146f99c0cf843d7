using System.Diagnostics;
using System.Globalization;

namespace LinuxEvent.Compare;

/// <summary>CPU accounting from /proc: a process's utime+stime (all threads), and each CPU's busy and idle time.</summary>
internal static class CpuStats
{
    public static readonly double ClockTicks = ReadClockTicks();

    private static double ReadClockTicks()
    {
        try
        {
            var psi = new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (double.TryParse(s, CultureInfo.InvariantCulture, out var hz) && hz > 0) return hz;
        }
        catch (System.ComponentModel.Win32Exception) { }
        return 100;
    }

    /// <summary>utime+stime in clock ticks of the whole process (all threads, live and exited), from /proc/PID/stat.</summary>
    public static long? ProcessTicks(int pid)
    {
        try
        {
            string s = File.ReadAllText($"/proc/{pid}/stat");
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Resident set size in KiB (VmRSS of /proc/PID/status), or null.</summary>
    public static long? ResidentKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>(busy, idle) jiffies of cpu0 and cpu1 from /proc/stat: busy = user+nice+system+irq+softirq, idle = idle+iowait.</summary>
    public static long[]? Cpus()
    {
        try
        {
            var res = new long[4];
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                int cpu = line.StartsWith("cpu0 ", StringComparison.Ordinal) ? 0 : line.StartsWith("cpu1 ", StringComparison.Ordinal) ? 1 : -1;
                if (cpu < 0) continue;
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                res[2 * cpu] = f[0] + f[1] + f[2] + f[5] + f[6];
                res[2 * cpu + 1] = f[3] + f[4];
            }
            return res;
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException) { return null; }
    }

    /// <summary>Busy % of <paramref name="cpu"/> between two <see cref="Cpus"/> samples.</summary>
    public static double Busy(long[] a, long[] b, int cpu)
    {
        double busy = b[2 * cpu] - a[2 * cpu], idle = b[2 * cpu + 1] - a[2 * cpu + 1];
        return 100 * busy / (busy + idle + 1e-9);
    }
}
