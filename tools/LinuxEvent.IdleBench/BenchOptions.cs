using System.Globalization;

namespace LinuxEvent.IdleBench;

/// <summary>The command line of a measurement run.</summary>
internal sealed class BenchOptions
{
    public const string Usage =
        "usage: LinuxEvent.IdleBench [--servers LIST] [--models reactor,proactor] [--connections 10000,15000]\n" +
        "                            [--exchange hello|none] [--warmup 500] [--repeat 1] [--repo DIR] [--out FILE.md]\n" +
        "  servers: " + "chat-server, mini-redis, http-server, echo-server, sockets-echo (default: all)\n" +
        "  Build them first: ci/bench-idle.sh does (and then runs this).";

    public List<string> Servers { get; private set; } = [.. ServerCatalog.AllNames];
    public List<string> Models { get; private set; } = ["reactor", "proactor"];
    public List<int> Connections { get; private set; } = [10_000, 15_000];
    public bool Exchange { get; private set; } = true;
    public int Warmup { get; private set; } = 500;
    public int Repeat { get; private set; } = 1;
    public string Repo { get; private set; } = "";
    public string? Out { get; private set; }

    /// <summary>Parses the arguments; null after --help.</summary>
    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        string? repo = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value");
            switch (a)
            {
                case "--servers": o.Servers = List(Value()); break;
                case "--models": o.Models = List(Value()); break;
                case "--connections": o.Connections = List(Value()).Select(s => Int(a, s, 1, 19_000)).ToList(); break;
                case "--exchange":
                    o.Exchange = Value() switch { "hello" => true, "none" => false, var v => throw new UsageException($"--exchange: '{v}' is not hello|none") };
                    break;
                case "--warmup": o.Warmup = Int(a, Value(), 0, 5000); break;
                case "--repeat": o.Repeat = Int(a, Value(), 1, 20); break;
                case "--repo": repo = Value(); break;
                case "--out": o.Out = Value(); break;
                case "--help" or "-h": Console.WriteLine(Usage); return null;
                default: throw new UsageException($"unknown argument '{a}'");
            }
        }
        foreach (var s in o.Servers)
            if (!ServerCatalog.AllNames.Contains(s)) throw new UsageException($"--servers: unknown server '{s}'");
        foreach (var m in o.Models)
            if (m is not ("reactor" or "proactor")) throw new UsageException($"--models: unknown model '{m}'");
        o.Repo = FindRepo(repo);
        return o;
    }

    private static List<string> List(string v) => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static int Int(string name, string v, int min, int max)
    {
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new UsageException($"{name}: '{v}' is not a number in {min}..{max}");
        return n;
    }

    private static string FindRepo(string? given)
    {
        if (given is not null)
        {
            string full = Path.GetFullPath(given);
            if (!File.Exists(Path.Combine(full, "LinuxEvent.sln"))) throw new UsageException($"--repo {given}: no LinuxEvent.sln there");
            return full;
        }
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "LinuxEvent.sln"))) return d.FullName;
        throw new UsageException("cannot find the repository root (LinuxEvent.sln); pass --repo");
    }
}
