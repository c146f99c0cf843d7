namespace LinuxEvent.Compare;

/// <summary>Finds the servers and load generators, and says why any is missing.</summary>
internal static class ServerCatalog
{
    public static readonly string[] AllNames = ["reactor", "proactor", "proactor-multishot", "reactor-async", "proactor-async", "reactor-x2", "proactor-x2", "epoll", "uring", "sockets"];
    public static readonly string[] DefaultNames = ["reactor", "proactor", "epoll", "uring", "sockets"];
    public static readonly string[] PeerNames = ["epoll", "uring", "sockets"];

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
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "LinuxEvent.sln"))) return d.FullName;
        }
        throw new UsageException("cannot find the repository root (LinuxEvent.sln); pass --repo");
    }

    /// <summary><c>$(repo)/../shared/peers</c>: the reference kit, present only in the project workspace.</summary>
    public static string PeersSource(string repo) => Path.GetFullPath(Path.Combine(repo, "..", "shared", "peers"));

    public static List<ServerSpec> Resolve(Settings s, string repo, List<string> notes)
    {
        string echo = s.EchoServer ?? Path.Combine(repo, "artifacts", "bin", "echo-server", "echo-server");
        string peersBin = s.PeersBin ?? Path.Combine(repo, "artifacts", "peers", "bin");
        string peersSrc = PeersSource(repo);
        bool peersPresent = Directory.Exists(peersSrc) || s.PeersBin is not null;

        var names = s.Servers == "default" ? DefaultNames.ToList() : s.Servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var n in names)
            if (!AllNames.Contains(n)) throw new UsageException($"--servers: unknown server '{n}' (known: {string.Join(", ", AllNames)})");

        var list = new List<ServerSpec>();
        foreach (var n in names)
        {
            ServerSpec spec = n switch
            {
                "reactor" => new() { Name = n, Display = "LinuxEvent reactor", Executable = echo, Arguments = ["--model", "reactor", "--port", "@PORT@"], Ours = true },
                "proactor" => new() { Name = n, Display = "LinuxEvent proactor", Executable = echo, Arguments = ["--model", "proactor", "--port", "@PORT@"], Ours = true },
                "proactor-multishot" => new() { Name = n, Display = "LinuxEvent proactor (multishot recv)", Executable = echo, Arguments = ["--model", "proactor", "--recv", "multishot", "--port", "@PORT@"], Ours = true },
                "reactor-async" => new() { Name = n, Display = "LinuxEvent reactor (async/await)", Executable = echo, Arguments = ["--model", "reactor", "--style", "async", "--port", "@PORT@"], Ours = true },
                "proactor-async" => new() { Name = n, Display = "LinuxEvent proactor (async/await)", Executable = echo, Arguments = ["--model", "proactor", "--style", "async", "--port", "@PORT@"], Ours = true },
                "reactor-x2" => new() { Name = n, Display = "LinuxEvent reactor, 2 loops", Executable = echo, Arguments = ["--model", "reactor", "--loops", "2", "--port", "@PORT@"], Ours = true },
                "proactor-x2" => new() { Name = n, Display = "LinuxEvent proactor, 2 loops", Executable = echo, Arguments = ["--model", "proactor", "--loops", "2", "--port", "@PORT@"], Ours = true },
                "epoll" => new() { Name = n, Display = "C epoll", Executable = Path.Combine(peersBin, "echo_epoll"), Arguments = ["-p", "@PORT@"] },
                "uring" => new() { Name = n, Display = "C liburing", Executable = Path.Combine(peersBin, "echo_uring"), Arguments = ["-p", "@PORT@"] },
                "sockets" => new() { Name = n, Display = ".NET Sockets", Executable = Path.Combine(peersBin, "EchoSockets", "EchoSockets"), Arguments = ["--port", "@PORT@"] },
                _ => throw new InvalidOperationException(),
            };
            if (!File.Exists(spec.Executable))
            {
                if (!spec.Ours && !peersPresent)
                    spec.Missing = $"{spec.Display}: skipped — ../shared/peers is not present beside the checkout ({peersSrc})";
                else if (!spec.Ours)
                    spec.Missing = $"{spec.Display}: skipped — not built at {spec.Executable} (ci/bench.sh builds the peers into artifacts/peers)";
                else
                    spec.Missing = $"{spec.Display}: skipped — {spec.Executable} not found (ci/bench.sh publishes it; or pass --echo-server)";
            }
            list.Add(spec);
        }
        bool kitAbsentNoted = false;
        foreach (var spec in list.Where(x => x.Missing is not null))
        {
            if (!spec.Ours && !peersPresent)
            {
                // One note for the whole reference kit when it is simply not there (a user's clone).
                if (!kitAbsentNoted) notes.Add(PeersAbsentNote(peersSrc));
                kitAbsentNoted = true;
            }
            else notes.Add(spec.Missing!);
        }
        return list;
    }

    private static string PeersAbsentNote(string peersSrc) =>
        $"C epoll, C liburing, .NET Sockets: skipped — the reference kit ../shared/peers is not present beside the checkout ({peersSrc}); only our servers run";

    public static List<LoadSpec> ResolveLoads(Settings s, string repo, List<string> notes)
    {
        string peersBin = s.PeersBin ?? Path.Combine(repo, "artifacts", "peers", "bin");
        var echoload = new LoadSpec { Name = "echoload", Executable = Path.Combine(peersBin, "echoload") };
        var dotnet = new LoadSpec { Name = "dotnet", Executable = s.DotnetLoad ?? Path.Combine(repo, "artifacts", "bin", "load", "LinuxEvent.Load") };
        bool haveEcho = File.Exists(echoload.Executable), haveDotnet = File.Exists(dotnet.Executable);
        switch (s.Load)
        {
            case "auto":
                if (haveEcho) return [echoload];
                if (haveDotnet)
                {
                    notes.Add($"load generator: echoload not built ({echoload.Executable}); using our C# LinuxEvent.Load");
                    return [dotnet];
                }
                throw new UsageException($"no load generator: neither {echoload.Executable} nor {dotnet.Executable} exists (run ci/bench.sh)");
            case "echoload":
                if (!haveEcho) throw new UsageException($"--load echoload: {echoload.Executable} not found (ci/bench.sh builds it when ../shared/peers is present)");
                return [echoload];
            case "dotnet":
                if (!haveDotnet) throw new UsageException($"--load dotnet: {dotnet.Executable} not found (ci/bench.sh publishes it; or pass --dotnet-load)");
                return [dotnet];
            case "both":
                if (!haveEcho || !haveDotnet) throw new UsageException($"--load both needs {echoload.Executable} and {dotnet.Executable}");
                return [echoload, dotnet];
            default:
                throw new UsageException($"--load: unknown '{s.Load}' (auto|echoload|dotnet|both)");
        }
    }
}
