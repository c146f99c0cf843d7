using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace LinuxEvent.FileBench;

/// <summary>
/// fio's io_uring engine on the same file, block size, depth and CPU set (taskset with this process's own affinity):
/// <c>fio --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 --size=1g --time_based ...</c>. IOPS and
/// CPU come from fio's JSON report: CPU per I/O = (usr_cpu + sys_cpu)% of the job's runtime ÷ its I/Os.
/// </summary>
internal static class FioEngine
{
    public static Result? Run(Options o)
    {
        string cpus = CpuSet.Current() ?? "";
        var args = new List<string>();
        if (cpus.Length > 0) { args.Add("-c"); args.Add(cpus); }
        args.AddRange(new[]
        {
            "fio", "--name=filebench", "--filename=" + o.File, "--ioengine=io_uring", "--rw=randread",
            "--direct=" + (o.Direct ? "1" : "0"), "--invalidate=0", "--bs=" + o.BlockSize.ToString(CultureInfo.InvariantCulture),
            "--iodepth=" + o.Depth.ToString(CultureInfo.InvariantCulture), "--size=" + o.Size.ToString(CultureInfo.InvariantCulture),
            "--runtime=" + o.Seconds.ToString(CultureInfo.InvariantCulture), "--ramp_time=" + o.Warmup.ToString(CultureInfo.InvariantCulture),
            "--time_based", "--numjobs=1", "--output-format=json",
        });
        var psi = new ProcessStartInfo(cpus.Length > 0 ? "taskset" : args[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in cpus.Length > 0 ? args : args.Skip(1)) psi.ArgumentList.Add(a);
        Console.Error.WriteLine("filebench: " + psi.FileName + " " + string.Join(' ', psi.ArgumentList));
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { Console.Error.WriteLine($"filebench: fio not runnable ({e.Message}); apt-get install -y fio"); return null; }
        string json = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) { Console.Error.WriteLine("filebench: fio failed: " + err); return null; }
        using var doc = JsonDocument.Parse(json[json.IndexOf('{')..]);
        var job = doc.RootElement.GetProperty("jobs")[0];
        var read = job.GetProperty("read");
        long ios = read.GetProperty("total_ios").GetInt64();
        double seconds = read.GetProperty("runtime").GetDouble() / 1000.0;
        double cpu = (job.GetProperty("usr_cpu").GetDouble() + job.GetProperty("sys_cpu").GetDouble()) / 100.0 * seconds;
        p.Dispose();
        return new Result("fio-io_uring", ios, seconds, cpu, $"fio_iops={read.GetProperty("iops").GetDouble():F0}");
    }
}

/// <summary>This process's CPU affinity as a taskset list (from /proc/self/status), so fio runs on the same CPUs.</summary>
internal static class CpuSet
{
    public static string? Current()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return line["Cpus_allowed_list:".Length..].Trim();
        return null;
    }
}
