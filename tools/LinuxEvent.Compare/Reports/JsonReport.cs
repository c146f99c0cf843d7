using System.Text;
using System.Text.Json;

namespace LinuxEvent.Compare;

/// <summary>
/// results.json: the machine-readable record of a comparison: the command, settings, environment (kernel, CPU, .NET,
/// gcc, liburing), servers and load generators (with paths), workloads (with parameters), every run (flag, error,
/// metrics, the exact server and load commands) and every summary (medians of each metric, and the group's ratio
/// metrics against each baseline). Missing figures are null.
/// </summary>
internal static class JsonReport
{
    private static readonly string[] Baselines = ["epoll", "uring", "sockets"];

    public static string Render(Results r)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("tool", "LinuxEvent.Compare");
            j.WriteString("started", r.Started.ToUniversalTime().ToString("O"));
            j.WriteNumber("wall_seconds", Math.Round(r.Elapsed.TotalSeconds, 1));
            j.WriteString("command", r.Command);
            j.WriteStartArray("argv");
            foreach (var a in r.Settings.Argv) j.WriteStringValue(a);
            j.WriteEndArray();
            j.WriteStartObject("settings");
            j.WriteBoolean("quick", r.Settings.Quick);
            j.WriteNumber("reps", r.Settings.Reps);
            Num(j, "seconds", r.Settings.Seconds);
            Num(j, "warmup", r.Settings.Warmup);
            j.WriteNumber("retries", r.Settings.Retries);
            Num(j, "quiet_wait", r.Settings.QuietWait);
            j.WriteString("placement", r.Placement);
            j.WriteEndObject();
            j.WriteStartObject("environment");
            var m = r.Machine;
            j.WriteString("kernel", m.Kernel);
            j.WriteString("cpu_model", m.CpuModel);
            j.WriteNumber("cpus", m.Cpus);
            j.WriteString("os", m.Os);
            j.WriteString("dotnet_runtime", m.Dotnet);
            j.WriteString("dotnet_sdk", m.DotnetSdk);
            j.WriteString("gcc", m.Gcc);
            j.WriteString("liburing", m.Liburing);
            j.WriteString("io_uring_disabled", m.IoUringDisabled);
            j.WriteEndObject();
            j.WriteStartArray("servers");
            foreach (var s in r.Servers)
                Strings(j, ("name", s.Name), ("display", s.Display), ("executable", s.Executable), ("about", s.About), ("missing", s.Missing), ("failed", s.Failed));
            j.WriteEndArray();
            j.WriteStartArray("load_generators");
            foreach (var l in r.Loads) Strings(j, ("name", l.Name), ("display", l.Display), ("executable", l.Executable));
            j.WriteEndArray();
            j.WriteStartArray("workloads");
            foreach (var w in r.Workloads)
            {
                j.WriteStartObject();
                j.WriteString("name", w.Name);
                j.WriteString("title", w.Title);
                j.WriteString("group", w.Group.Name);
                j.WriteStartObject("parameters");
                foreach (var (k, v) in w.Parameters) j.WriteString(k, v);
                j.WriteEndObject();
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartArray("runs");
            foreach (var run in r.Summaries.SelectMany(s => s.Runs)) WriteRun(j, run);
            j.WriteEndArray();
            j.WriteStartArray("summaries");
            foreach (var s in r.Summaries) WriteSummary(j, r, s);
            j.WriteEndArray();
            j.WriteStartArray("notes");
            foreach (var n in r.Notes) j.WriteStringValue(n);
            j.WriteEndArray();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void WriteRun(Utf8JsonWriter j, RunResult run)
    {
        j.WriteStartObject();
        j.WriteString("workload", run.Workload.Name);
        j.WriteString("server", run.Server.Name);
        j.WriteString("load", run.Load.Name);
        j.WriteNumber("rep", run.Rep);
        j.WriteString("flag", run.Flag);
        if (run.Error is not null) j.WriteString("error", run.Error);
        if (run.Warning is not null) j.WriteString("warning", run.Warning);
        if (run.ServerCommand is not null) j.WriteString("server_command", run.ServerCommand);
        if (run.LoadCommand is not null) j.WriteString("load_command", run.LoadCommand);
        if (run.LoadLine.Length > 0) j.WriteString("load_output", run.LoadLine);
        j.WriteStartObject("metrics");
        foreach (var (k, v) in run.Metrics) Num(j, k, v);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void WriteSummary(Utf8JsonWriter j, Results r, Summary s)
    {
        j.WriteStartObject();
        j.WriteString("workload", s.Workload.Name);
        j.WriteString("server", s.Server.Name);
        j.WriteString("load", s.Load.Name);
        j.WriteNumber("runs", s.Runs.Count);
        j.WriteNumber("runs_ok", s.OkCount);
        j.WriteNumber("runs_noisy", s.Noisy);
        j.WriteString("runs_used", s.RunsLong);
        j.WriteStartObject("median");
        foreach (var k in s.Good.SelectMany(x => x.Metrics.Keys).Distinct()) Num(j, k, s.Median(k));
        j.WriteEndObject();
        j.WriteStartObject("ratios");
        foreach (var b in Baselines)
        {
            var peer = r.Find(s.Load, s.Workload, b);
            j.WriteStartObject("vs_" + b);
            foreach (var k in s.Workload.Group.RatioMetrics)
            {
                double a = s.Median(k), v = peer?.Median(k) ?? double.NaN;
                Num(j, k, a > 0 && v > 0 ? Math.Round(a / v, 4) : double.NaN);
            }
            j.WriteEndObject();
        }
        j.WriteEndObject();
        j.WriteEndObject();
    }

    /// <summary>An object of string properties; null values are left out.</summary>
    private static void Strings(Utf8JsonWriter j, params (string Key, string? Value)[] fields)
    {
        j.WriteStartObject();
        foreach (var (k, v) in fields)
            if (v is not null) j.WriteString(k, v);
        j.WriteEndObject();
    }

    private static void Num(Utf8JsonWriter j, string name, double v)
    {
        if (double.IsNaN(v) || double.IsInfinity(v)) j.WriteNull(name);
        else j.WriteNumber(name, Math.Round(v, 4));
    }
}
