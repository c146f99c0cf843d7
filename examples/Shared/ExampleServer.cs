// Shared by the example servers (chat-server, mini-redis, http-server), pulled in with `#:include Shared/ExampleServer.cs`:
// the command line they all take and the main they all run, so each server file is only its protocol.
using System.Net;
using LinuxEvent;

/// <summary>The common main of the example servers.</summary>
internal static class ExampleServer
{
    /// <summary>
    /// Parses <c>--model reactor|proactor [--port P]</c>, creates the loop, runs <paramref name="serve"/> on 127.0.0.1
    /// until it completes (the servers end it on SIGINT/SIGTERM), and returns the process exit code: 0 after a clean
    /// stop, 1 on a kernel error, 2 on bad arguments, 3 when the model is not available here.
    /// </summary>
    public static int Run(string name, string[] args, int defaultPort, Func<Loop, IPEndPoint, Task> serve)
    {
        if (!ServerOptions.TryParse(name, args, defaultPort, out var options)) return 2;
        Loop loop;
        try { loop = Loop.Create(options.Model); }
        catch (LinuxEventUnsupportedException ex)
        {
            Console.Error.WriteLine($"{name}: the {options.Model} model is not available here: {ex.Message}");
            return 3;
        }
        using (loop)
        {
            loop.UnhandledException = (_, ex) => Console.Error.WriteLine($"{name}: unexpected error: {ex}");
            try
            {
                loop.Run(() => serve(loop, new IPEndPoint(IPAddress.Loopback, options.Port)));
            }
            catch (Exception ex) when (ex is ILinuxEventError)
            {
                Console.Error.WriteLine($"{name}: {ex.Message}");
                return 1;
            }
        }
        return 0;
    }
}

/// <summary>Command-line options shared by the example servers.</summary>
internal sealed record ServerOptions(LoopModel Model, int Port)
{
    public static bool TryParse(string name, string[] args, int defaultPort, out ServerOptions options)
    {
        options = null!;
        LoopModel? model = null;
        int port = defaultPort;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (a)
            {
                case "--model" or "-m" when value is "reactor" or "proactor":
                    model = value == "reactor" ? LoopModel.Reactor : LoopModel.Proactor;
                    i++;
                    break;
                case "--port" or "-p" when int.TryParse(value, out int p) && p is > 0 and < 65536:
                    port = p;
                    i++;
                    break;
                case "--help" or "-h":
                    Console.WriteLine($"usage: {name} --model reactor|proactor [--port P]   (127.0.0.1, default port {defaultPort})");
                    return false;
                default:
                    Console.Error.WriteLine($"{name}: bad argument '{a}'{(value is null ? "" : $" '{value}'")}");
                    Console.Error.WriteLine($"usage: {name} --model reactor|proactor [--port P]");
                    return false;
            }
        }
        if (model is null)
        {
            Console.Error.WriteLine($"{name}: --model reactor|proactor is required (the model is always explicit)");
            return false;
        }
        options = new ServerOptions(model.Value, port);
        return true;
    }
}
