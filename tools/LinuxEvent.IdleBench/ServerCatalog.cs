namespace LinuxEvent.IdleBench;

/// <summary>Where the built servers are (ci/bench-idle.sh builds them) and what their clients say.</summary>
internal static class ServerCatalog
{
    public static readonly string[] AllNames = ["chat-server", "mini-redis", "http-server", "echo-server", "sockets-echo"];

    /// <summary>The spec of <paramref name="name"/> on <paramref name="model"/> (ignored by sockets-echo), or null with
    /// <paramref name="missing"/> saying which file is absent.</summary>
    public static ServerSpec? Resolve(string repo, string name, string model, out string? missing)
    {
        missing = null;
        string dll;
        switch (name)
        {
            case "chat-server" or "mini-redis" or "http-server":
                dll = Path.Combine(repo, "artifacts", "examples", name, "bin", name + ".dll");
                if (!File.Exists(dll)) { missing = $"{dll} (ci/bench-idle.sh builds it)"; return null; }
                return new ServerSpec(name, model, "dotnet", [dll, "--model", model, "--port", "@PORT@"],
                    name switch { "chat-server" => Protocol.Chat, "mini-redis" => Protocol.Redis, _ => Protocol.Http });
            case "echo-server":
                dll = Path.Combine(repo, "examples", "EchoServer", "bin", "Release", "net10.0", "echo-server.dll");
                if (!File.Exists(dll)) { missing = $"{dll} (ci/bench-idle.sh builds it)"; return null; }
                return new ServerSpec(name, model, "dotnet", [dll, "--model", model, "--port", "@PORT@"], Protocol.Echo);
            case "sockets-echo":
                // tools/SocketsEcho: the .NET Sockets baseline of ci/bench.sh (one async loop and a 64 KiB buffer per connection).
                dll = Path.Combine(repo, "tools", "SocketsEcho", "bin", "Release", "net10.0", "SocketsEcho.dll");
                if (!File.Exists(dll)) { missing = $"{dll} (ci/bench-idle.sh builds it)"; return null; }
                return new ServerSpec(".NET Sockets echo", null, "dotnet", [dll, "--port", "@PORT@"], Protocol.Echo);
            default:
                throw new UsageException($"unknown server '{name}'");
        }
    }
}
