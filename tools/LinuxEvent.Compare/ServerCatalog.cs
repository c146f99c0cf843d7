namespace LinuxEvent.Compare;

/// <summary>The servers and load generators, where ci/bench.sh puts them, and why any is missing.</summary>
internal static class ServerCatalog
{
    public static readonly string[] AllNames = ["reactor", "proactor", "proactor-multishot", "reactor-async", "proactor-async", "reactor-x2", "proactor-x2", "epoll", "uring", "sockets"];
    public static readonly string[] DefaultNames = ["reactor", "proactor", "epoll", "uring", "sockets"];

    /// <summary>The repository root: the first directory upwards holding LinuxEvent.sln.</summary>
    public static string FindRepo(string? given)
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

    private static string BaselinesBin(Settings s, string repo) => s.BaselinesBin ?? Path.Combine(repo, "artifacts", "baselines", "bin");

    /// <summary>The spec of server <paramref name="name"/> (paths as ci/bench.sh lays them out, or as the options say).</summary>
    public static ServerSpec Spec(string name, Settings s, string repo)
    {
        // NAME-b: the same server from the other build (--echo-server-b), so an A/B of two builds interleaves in one run.
        if (name.EndsWith("-b", StringComparison.Ordinal) && AllNames.Contains(name[..^2]))
        {
            var a = Spec(name[..^2], s, repo);
            if (!a.Ours) throw new UsageException($"--servers: {name}: only our echo-server has a B build");
            if (s.EchoServerB is null) throw new UsageException($"--servers: {name} needs --echo-server-b PATH");
            string shortB = a.Short.Length > 17 ? a.Short[..17] : a.Short;
            return new() { Name = name, Display = a.Display + " (build B)", Short = shortB + " B", Executable = s.EchoServerB, Arguments = a.Arguments, About = a.About + "; build B: " + s.EchoServerB, Ours = true };
        }
        string echo = s.EchoServer ?? Path.Combine(repo, "artifacts", "bin", "echo-server", "echo-server");
        string bin = BaselinesBin(s, repo);
        string sockets = s.SocketsEcho ?? Path.Combine(repo, "artifacts", "bin", "sockets-echo", "SocketsEcho");
        ServerSpec Ours(string display, string shortName, string about, params string[] args) =>
            new() { Name = name, Display = display, Short = shortName, Executable = echo, Arguments = [.. args, "--port", "@PORT@"], About = about, Ours = true };
        return name switch
        {
            "reactor" => Ours("LinuxEvent reactor", "LinuxEvent reactor", "examples/EchoServer on our reactor (epoll readiness, then recv/send on the loop thread; callbacks)", "--model", "reactor"),
            "proactor" => Ours("LinuxEvent proactor", "LinuxEvent proactor", "examples/EchoServer on our proactor (recv, then send, submitted to io_uring; completions dispatched on the loop thread)", "--model", "proactor"),
            "proactor-multishot" => Ours("LinuxEvent proactor (multishot recv)", "proactor multishot", "our proactor with multishot recv and provided buffers", "--model", "proactor", "--recv", "multishot"),
            "reactor-async" => Ours("LinuxEvent reactor (async/await)", "reactor async", "our reactor, async/await style (LoopFd)", "--model", "reactor", "--style", "async"),
            "proactor-async" => Ours("LinuxEvent proactor (async/await)", "proactor async", "our proactor, async/await style (LoopFd)", "--model", "proactor", "--style", "async"),
            "reactor-x2" => Ours("LinuxEvent reactor, 2 loops", "reactor x2 loops", "our reactor, one loop per core (SO_REUSEPORT)", "--model", "reactor", "--loops", "2"),
            "proactor-x2" => Ours("LinuxEvent proactor, 2 loops", "proactor x2 loops", "our proactor, one loop per core (SO_REUSEPORT)", "--model", "proactor", "--loops", "2"),
            "epoll" => new()
            {
                Name = name, Display = "C epoll", Short = "C epoll", Executable = Path.Combine(bin, "echo_epoll"), Arguments = ["-p", "@PORT@", "-T", "@LIFETIME@"],
                About = "tools/baselines/echo_epoll.c: level-triggered epoll, one recv then send per readiness; a short send parks the rest and waits for EPOLLOUT",
            },
            "uring" => new()
            {
                Name = name, Display = "C liburing", Short = "C liburing", Executable = Path.Combine(bin, "echo_uring"), Arguments = ["-p", "@PORT@", "-T", "@LIFETIME@"],
                About = "tools/baselines/echo_uring.c: liburing, multishot accept, one recv or send in flight per connection, one submit-and-wait per batch",
            },
            "sockets" => new()
            {
                Name = name, Display = ".NET Sockets", Short = ".NET Sockets", Executable = sockets, Arguments = ["--port", "@PORT@", "--max-seconds", "@LIFETIME@"],
                About = "tools/SocketsEcho: plain System.Net.Sockets, an async ReceiveAsync/SendAsync loop per connection on the thread pool, runtime defaults",
            },
            _ => throw new UsageException($"--servers: unknown server '{name}' (known: {string.Join(", ", AllNames)})"),
        };
    }

    public static List<ServerSpec> Resolve(Settings s, string repo, List<string> notes)
    {
        var names = s.Servers == "default" ? DefaultNames.ToList() : s.Servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var list = names.Select(n => Spec(n, s, repo)).ToList();
        foreach (var spec in list.Where(x => !File.Exists(x.Executable)))
        {
            spec.Missing = spec.Name switch
            {
                "epoll" => $"{spec.Display}: skipped, not built at {spec.Executable} (ci/bench.sh builds it; needs gcc)",
                "uring" => $"{spec.Display}: skipped, not built at {spec.Executable} (ci/bench.sh builds it; needs gcc and liburing-dev)",
                "sockets" => $"{spec.Display}: skipped, {spec.Executable} not found (ci/bench.sh publishes it; or pass --sockets-echo)",
                _ => $"{spec.Display}: skipped, {spec.Executable} not found (ci/bench.sh publishes it; or pass --echo-server)",
            };
            notes.Add(spec.Missing);
        }
        return list;
    }

    /// <summary>A server named in an old raw.log: the catalog's spec when the name is known, else a bare one.</summary>
    public static ServerSpec ForRaw(string name, Settings s, string repo) =>
        AllNames.Contains(name) || (name.EndsWith("-b", StringComparison.Ordinal) && AllNames.Contains(name[..^2]) && s.EchoServerB is not null) ? Spec(name, s, repo) : new() { Name = name, Display = name, Short = name.Length > 19 ? name[..19] : name, Executable = name, Arguments = [], About = "(from raw.log)" };

    public static LoadSpec CLoad(Settings s, string repo) =>
        new() { Name = "c", Display = "loadgen (C)", Executable = Path.Combine(BaselinesBin(s, repo), "loadgen") };

    public static LoadSpec DotnetLoad(Settings s, string repo) =>
        new() { Name = "dotnet", Display = "LinuxEvent.Load (C#)", Executable = s.DotnetLoad ?? Path.Combine(repo, "artifacts", "bin", "load", "LinuxEvent.Load") };

    public static List<LoadSpec> ResolveLoads(Settings s, string repo, List<string> notes)
    {
        var c = CLoad(s, repo);
        var dotnet = DotnetLoad(s, repo);
        bool haveC = File.Exists(c.Executable), haveDotnet = File.Exists(dotnet.Executable);
        switch (s.Load)
        {
            case "auto":
                if (haveC) return [c];
                if (!haveDotnet) throw new UsageException($"no load generator: neither {c.Executable} nor {dotnet.Executable} exists (run ci/bench.sh)");
                notes.Add($"load generator: the C loadgen is not built ({c.Executable}); using LinuxEvent.Load (C#), which costs more CPU per message");
                return [dotnet];
            case "c":
                if (!haveC) throw new UsageException($"--load c: {c.Executable} not found (ci/bench.sh builds it; needs gcc)");
                return [c];
            case "dotnet":
                if (!haveDotnet) throw new UsageException($"--load dotnet: {dotnet.Executable} not found (ci/bench.sh publishes it; or pass --dotnet-load)");
                return [dotnet];
            case "both":
                if (!haveC || !haveDotnet) throw new UsageException($"--load both needs {c.Executable} and {dotnet.Executable}");
                return [c, dotnet];
            default:
                throw new UsageException($"--load: unknown '{s.Load}' (auto|c|dotnet|both)");
        }
    }
}
