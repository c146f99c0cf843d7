using System.Globalization;
using System.Text;

namespace LinuxEvent.Compare;

/// <summary>
/// raw.log: a "# command: ..." header, then one key=value line per run attempt (noisy attempts that were repeated
/// included): <c>workload= server= load= rep= flag=</c>, every metric, and quoted <c>warning=</c>, <c>error=</c>,
/// <c>server_command=</c> and <c>load_command=</c> (so a re-rendered results.json keeps the commands).
/// <c>--from-raw</c> reads it back (also the older format, whose first key was <c>shape=</c>).
/// </summary>
internal static class RawLog
{
    private static readonly HashSet<string> Meta = ["workload", "shape", "server", "load", "rep", "flag", "warning", "error", "server_command", "load_command"];

    public static string Line(RunResult r)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"workload={r.Workload.Name} server={r.Server.Name} load={r.Load.Name} rep={r.Rep} flag={r.Flag}");
        foreach (var (k, v) in r.Metrics) sb.Append(ci, $" {k}={v.ToString("0.####", ci)}");
        if (r.Warning is not null) sb.Append(ci, $" warning=\"{Clean(r.Warning)}\"");
        if (r.Error is not null) sb.Append(ci, $" error=\"{Clean(r.Error)}\"");
        if (r.ServerCommand is not null) sb.Append(ci, $" server_command=\"{Clean(r.ServerCommand)}\"");
        if (r.LoadCommand is not null) sb.Append(ci, $" load_command=\"{Clean(r.LoadCommand)}\"");
        return sb.ToString();
    }

    private static string Clean(string s) => s.Replace('"', '\'').Replace('\n', ' ');

    /// <summary>key=value tokens separated by spaces; a value may be double-quoted (and then hold spaces).</summary>
    public static Dictionary<string, string> ParseKv(string line)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ') i++;
            int eq = line.IndexOf('=', i);
            int sp = line.IndexOf(' ', i);
            if (eq < 0 || (sp >= 0 && sp < eq)) { i = sp < 0 ? line.Length : sp + 1; continue; }   // a token without '='
            string key = line[i..eq];
            int start = eq + 1, end;
            if (start < line.Length && line[start] == '"')
            {
                end = line.IndexOf('"', start + 1);
                if (end < 0) end = line.Length;
                d[key] = line[(start + 1)..end];
                i = end + 1;
            }
            else
            {
                end = line.IndexOf(' ', start);
                if (end < 0) end = line.Length;
                d[key] = line[start..end];
                i = end;
            }
        }
        return d;
    }

    /// <summary>The run lines of a raw.log as results (the last attempt of each workload/server/load/rep counts).</summary>
    public static List<RunResult> Read(string path, Func<string, ServerSpec> server, Func<string, LoadSpec> load)
    {
        var last = new Dictionary<(string, string, string, string), RunResult>();
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("workload=", StringComparison.Ordinal) && !line.StartsWith("shape=", StringComparison.Ordinal)) continue;
            var kv = ParseKv(line);
            string wname = kv.GetValueOrDefault("workload") ?? kv["shape"];
            var w = WorkloadRegistry.Find(wname) ?? throw new UsageException($"--from-raw: unknown workload '{wname}' in {path}");
            var r = new RunResult
            {
                Workload = w, Server = server(kv["server"]), Load = load(kv["load"]),
                Rep = int.Parse(kv["rep"], CultureInfo.InvariantCulture), Flag = kv["flag"],
                Ok = kv["flag"] != "FAILED", Error = kv.GetValueOrDefault("error"), Warning = kv.GetValueOrDefault("warning"),
                ServerCommand = kv.GetValueOrDefault("server_command"), LoadCommand = kv.GetValueOrDefault("load_command"),
            };
            foreach (var (k, v) in kv)
                if (!Meta.Contains(k) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) r.Metrics[k] = d;
            last[(wname, kv["server"], kv["load"], kv["rep"])] = r;
        }
        return last.Values.ToList();
    }
}
