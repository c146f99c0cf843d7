// echo-server: a TCP echo server on 127.0.0.1 built on LinuxEvent.
//
//   echo-server --model reactor|proactor --port P [--style callbacks] [--recv single|multishot]
//
// SIGINT/SIGTERM stop the loop cleanly (exit 0). SIGUSR1 prints a "mark" line with the same counters as the exit
// line, so a benchmark can take the difference over its measured window. Both lines go to stderr:
//
//   echo-server: exit model=reactor style=callbacks gen0=0 gen1=0 gen2=0 alloc_bytes=123456 recvs=... bytes=... conns=...
//
// Adding a style (e.g. async): implement IEchoServer and add a case to EchoServers.Create.
using System.Net;
using LinuxEvent;
using LinuxEvent.Examples.EchoServer;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

EchoOptions options;
try
{
    options = EchoOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"echo-server: {ex.Message}");
    Console.Error.WriteLine(EchoOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.Out.WriteLine(EchoOptions.Usage);
    return 0;
}

IEchoServer server;
try
{
    server = EchoServers.Create(options);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"echo-server: {ex.Message}");
    return 2;
}
catch (LinuxEventUnsupportedException ex)
{
    Console.Error.WriteLine($"echo-server: the {options.Model} model is not available here: {ex.Message}");
    return 3;
}

try
{
    server.Run(new IPEndPoint(IPAddress.Loopback, options.Port), options);
}
catch (LinuxEventException ex)
{
    Console.Error.WriteLine($"echo-server: {ex.Message}");
    return 1;
}
Console.Error.WriteLine(Stats.Line("exit", options));
return 0;

namespace LinuxEvent.Examples.EchoServer
{
    /// <summary>Command-line options.</summary>
    internal sealed class EchoOptions
    {
        public const string Usage =
            "usage: echo-server --model reactor|proactor --port PORT [--style callbacks] [--recv single|multishot]\n" +
            "  --model   reactor: epoll readiness, level-triggered, recv/send in the callback (like echo_epoll.c)\n" +
            "            proactor: io_uring completions, multishot accept, recv -> send -> recv per connection\n" +
            "  --port    TCP port on 127.0.0.1 (-p also accepted)\n" +
            "  --style   callbacks (default); other styles plug in through IEchoServer\n" +
            "  --recv    proactor only: single (default; one recv per message, resubmitted) or multishot\n" +
            "            (multishot recv into a provided-buffer pool)\n" +
            "Signals: SIGINT/SIGTERM stop cleanly (exit 0); SIGUSR1 prints a counter snapshot to stderr.";

        public LoopModel Model { get; private set; } = LoopModel.Reactor;
        public bool ModelGiven { get; private set; }
        public int Port { get; private set; }
        public string Style { get; private set; } = "callbacks";
        public bool MultishotReceive { get; private set; }
        public bool Help { get; private set; }

        public static EchoOptions Parse(string[] args)
        {
            var o = new EchoOptions();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                switch (a)
                {
                    case "--model" or "-m":
                        string m = Value();
                        o.Model = m switch
                        {
                            "reactor" => LoopModel.Reactor,
                            "proactor" => LoopModel.Proactor,
                            _ => throw new ArgumentException($"unknown model '{m}' (reactor|proactor)"),
                        };
                        o.ModelGiven = true;
                        break;
                    case "--port" or "-p":
                        string p = Value();
                        if (!int.TryParse(p, out int port) || port is < 1 or > 65535) throw new ArgumentException($"bad port '{p}'");
                        o.Port = port;
                        break;
                    case "--style":
                        o.Style = Value();
                        break;
                    case "--recv":
                        string r = Value();
                        o.MultishotReceive = r switch
                        {
                            "single" => false,
                            "multishot" => true,
                            _ => throw new ArgumentException($"unknown --recv '{r}' (single|multishot)"),
                        };
                        break;
                    case "--help" or "-h":
                        o.Help = true;
                        break;
                    default:
                        throw new ArgumentException($"unknown argument '{a}'");
                }
            }
            if (!o.Help && !o.ModelGiven) throw new ArgumentException("--model is required (the model is always explicit)");
            if (!o.Help && o.Port == 0) throw new ArgumentException("--port is required");
            if (o.MultishotReceive && o.Model != LoopModel.Proactor) throw new ArgumentException("--recv multishot needs --model proactor");
            return o;
        }
    }

    /// <summary>One way of writing the echo server (a model × style combination).</summary>
    internal interface IEchoServer
    {
        /// <summary>Listens on <paramref name="endpoint"/> and serves until SIGINT/SIGTERM; closes everything before returning.</summary>
        void Run(IPEndPoint endpoint, EchoOptions options);
    }

    internal static class EchoServers
    {
        public static IEchoServer Create(EchoOptions o) => (o.Model, o.Style) switch
        {
            (LoopModel.Reactor, "callbacks") => new ReactorEchoServer(),
            (LoopModel.Proactor, "callbacks") => new ProactorEchoServer(),
            _ => throw new ArgumentException($"style '{o.Style}' is not implemented for the {o.Model} model (available: callbacks)"),
        };
    }

    /// <summary>Counters, bumped on the loop thread only (plain fields: no interlocked cost).</summary>
    internal static class Stats
    {
        public static long Receives;      // recv completions/calls that returned data
        public static long Bytes;         // bytes echoed (sent back)
        public static long Accepted;      // connections accepted
        public static long ShortSends;    // sends that did not take everything at once

        public static string Line(string what, EchoOptions o) =>
            $"echo-server: {what} model={o.Model.ToString().ToLowerInvariant()} style={o.Style}" +
            $"{(o.MultishotReceive ? " recv=multishot" : "")} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} " +
            $"gen2={GC.CollectionCount(2)} alloc_bytes={GC.GetTotalAllocatedBytes(precise: true)} recvs={Receives} " +
            $"bytes={Bytes} conns={Accepted} short_sends={ShortSends}";

        /// <summary>Subscribes the shutdown and snapshot signals on <paramref name="loop"/>.</summary>
        public static void SubscribeSignals(Loop loop, EchoOptions o)
        {
            loop.Signal(2, static (l, _) => l.Stop());     // SIGINT
            loop.Signal(15, static (l, _) => l.Stop());    // SIGTERM
            loop.Signal(10, (_, _) => Console.Error.WriteLine(Line("mark", o)));   // SIGUSR1: once per window, not hot
        }
    }
}
