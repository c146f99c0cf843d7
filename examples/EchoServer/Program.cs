// echo-server: a TCP echo server on 127.0.0.1 built on LinuxEvent.
//
//   echo-server --model reactor|proactor --port P [--style callbacks|async] [--recv single|multishot] [--loops N [--pin-loops]]
//
// SIGINT/SIGTERM stop the server gracefully (exit 0): the listener closes, every byte already received is echoed,
// then each connection closes. SIGUSR1 prints a "mark" line with the same counters as the exit
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
    var endpoint = new IPEndPoint(IPAddress.Loopback, options.Port);
    if (options.Loops == 1) server.Run(endpoint, options);
    else GroupRunner.Run(endpoint, options);
}
catch (Exception ex) when (ex is ILinuxEventError)
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
            "usage: echo-server --model reactor|proactor --port PORT [--style callbacks|async] [--recv single|multishot]\n" +
            "  --model   reactor: epoll readiness, level-triggered, recv/send in the callback (like echo_epoll.c)\n" +
            "            proactor: io_uring completions, multishot accept, recv -> send -> recv per connection\n" +
            "  --port    TCP port on 127.0.0.1 (-p also accepted)\n" +
            "  --style   callbacks (default) or async (the same await-based code on both models)\n" +
            "  --recv    proactor only: single (default; one recv per message, resubmitted) or multishot\n" +
            "            (multishot recv into a provided-buffer pool)\n" +
            "  --loops   N loops on N threads (LoopGroup), each with its own SO_REUSEPORT listener on the port (default 1:\n" +
            "            one loop on the main thread, plain listener)\n" +
            "  --pin-loops  with --loops: pin loop i's thread to CPU i\n" +
            "Signals: SIGINT/SIGTERM stop gracefully (exit 0: what was received is echoed first); SIGUSR1 prints a counter snapshot to stderr.";

        public LoopModel Model { get; private set; } = LoopModel.Reactor;
        public bool ModelGiven { get; private set; }
        public int Port { get; private set; }
        public string Style { get; private set; } = "callbacks";
        public bool MultishotReceive { get; private set; }
        public int Loops { get; private set; } = 1;
        public bool PinLoops { get; private set; }
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
                    case "--loops":
                        string l = Value();
                        if (!int.TryParse(l, out int loops) || loops is < 1 or > 1024) throw new ArgumentException($"bad --loops '{l}' (1..1024)");
                        o.Loops = loops;
                        break;
                    case "--pin-loops":
                        o.PinLoops = true;
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

        /// <summary>Opens the listener on <paramref name="loop"/> (its own thread) and starts accepting; no signals.</summary>
        void Setup(Loop loop, IPEndPoint endpoint, EchoOptions options, bool reusePort);

        /// <summary>After the loop's Run returned, on its thread: closes the listener and every connection.</summary>
        void Teardown(Loop loop);

        /// <summary>
        /// Graceful stop, on the loop's thread: closes the listener (connects are refused from now on), then shuts the
        /// receive side of every connection down, so each echoes what the kernel has already received, sees
        /// end-of-stream and closes once its echo is sent. <paramref name="drained"/> runs once the last connection
        /// has closed (at once if there is none). False (and nothing done) if the server is already draining.
        /// </summary>
        bool Drain(Action drained);
    }

    /// <summary>SIGINT/SIGTERM: drain the server, then stop its loop; a drain still running after
    /// <see cref="Timeout"/> stops the loop anyway (teardown then closes what is left).</summary>
    internal static class GracefulStop
    {
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

        /// <summary>Starts the drain of <paramref name="server"/> on <paramref name="loop"/> (its thread); a second
        /// call while it drains does nothing. <paramref name="stopped"/> runs after the loop was told to stop.</summary>
        public static void Begin(Loop loop, IEchoServer server, Action? stopped = null)
        {
            bool done = false;
            TimerHandle? deadline = null;
            void Finish()
            {
                if (done) return;
                done = true;
                deadline?.Cancel();
                loop.Stop();
                stopped?.Invoke();
            }
            if (server.Drain(Finish)) deadline = loop.After(Timeout, _ => Finish());
        }

        /// <summary>shutdown(SHUT_RD): what the kernel has already received can still be read, then reads return 0.
        /// An error (the peer already reset the connection) is left for the connection's next read to report.</summary>
        public static void ShutdownReceive(int fd)
        {
            try { Posix.Shutdown(fd, System.Net.Sockets.SocketShutdown.Receive); }
            catch (Exception e) when (e is ILinuxEventError) { }
        }
    }

    /// <summary>
    /// <c>--loops N</c>: one server instance per loop of a <see cref="LoopGroup"/>; each binds the port with
    /// SO_REUSEPORT, so the kernel spreads connections over the loops (and never moves one). Loop 0 owns the signals
    /// and stops the whole group on SIGINT/SIGTERM.
    /// </summary>
    internal static class GroupRunner
    {
        public static void Run(IPEndPoint endpoint, EchoOptions options)
        {
            var servers = new IEchoServer[options.Loops];
            for (int i = 0; i < servers.Length; i++) servers[i] = EchoServers.Create(options);
            var loops = new Loop[options.Loops];
            using var stopped = new ManualResetEventSlim(false);
            var group = LoopGroup.Start(options.Loops, options.Model, (loop, i) =>
            {
                loops[i] = loop;
                servers[i].Setup(loop, endpoint, options, reusePort: true);
                if (i == 0)
                {
                    // SIGINT/SIGTERM: every loop drains its server and then stops itself (Post is thread-safe); the
                    // main thread joins the group once all have.
                    int pending = loops.Length, begun = 0;
                    void StopAll()
                    {
                        if (Interlocked.Exchange(ref begun, 1) != 0) return;
                        for (int k = 0; k < loops.Length; k++)
                        {
                            int j = k;
                            loops[j]?.Post(l => GracefulStop.Begin(l, servers[j], () => { if (Interlocked.Decrement(ref pending) == 0) stopped.Set(); }));
                        }
                    }
                    loop.Signal(2, (_, _) => StopAll());
                    loop.Signal(15, (_, _) => StopAll());
                    loop.Signal(10, (_, _) => Console.Error.WriteLine(Stats.Line("mark", options)));
                }
            }, options.PinLoops, (loop, i) => servers[i].Teardown(loop));
            Console.Error.WriteLine($"echo-server: {options.Loops} {options.Model.ToString().ToLowerInvariant()} loops " +
                $"({group.Loops[0].BackendName}{(options.PinLoops ? ", pinned" : "")}) listening on {endpoint} with SO_REUSEPORT");
            try
            {
                stopped.Wait();
                group.Join();
            }
            finally
            {
                group.Dispose();
            }
        }
    }

    internal static class EchoServers
    {
        public static IEchoServer Create(EchoOptions o) => (o.Model, o.Style) switch
        {
            (LoopModel.Reactor, "callbacks") => new ReactorEchoServer(),
            (LoopModel.Proactor, "callbacks") => new ProactorEchoServer(),
            (_, "async") => new AsyncEchoServer(),
            _ => throw new ArgumentException($"style '{o.Style}' is not implemented for the {o.Model} model (available: callbacks, async)"),
        };
    }

    /// <summary>
    /// One server instance's counters, bumped on its loop thread only (plain fields: no interlocked cost). Each loop
    /// has its own instance (padded so two loops never write the same cache line); <see cref="Stats.Line"/> sums them.
    /// </summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    internal sealed class Counters
    {
#pragma warning disable CS0169, IDE0051   // padding
        private long _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7;
#pragma warning restore CS0169, IDE0051
        public long Receives;      // recv completions/calls that returned data
        public long Bytes;         // bytes echoed (sent back)
        public long Accepted;      // connections accepted
        public long ShortSends;    // sends that did not take everything at once
#pragma warning disable CS0169, IDE0051
        private long _q0, _q1, _q2, _q3, _q4, _q5, _q6, _q7;
#pragma warning restore CS0169, IDE0051

        private static readonly List<Counters> s_all = new();

        public static Counters Register()
        {
            var c = new Counters();
            lock (s_all) s_all.Add(c);
            return c;
        }

        /// <summary>Sum over every server instance (a snapshot: other loops may be counting meanwhile).</summary>
        public static (long Receives, long Bytes, long Accepted, long ShortSends) Sum()
        {
            long r = 0, b = 0, a = 0, s = 0;
            lock (s_all)
                foreach (var c in s_all) { r += Volatile.Read(ref c.Receives); b += Volatile.Read(ref c.Bytes); a += Volatile.Read(ref c.Accepted); s += Volatile.Read(ref c.ShortSends); }
            return (r, b, a, s);
        }
    }

    internal static class Stats
    {
        public static string Line(string what, EchoOptions o)
        {
            var (receives, bytes, accepted, shortSends) = Counters.Sum();
            return $"echo-server: {what} model={o.Model.ToString().ToLowerInvariant()} style={o.Style}" +
                $"{(o.MultishotReceive ? " recv=multishot" : "")}{(o.Loops > 1 ? $" loops={o.Loops}" : "")} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} " +
                $"gen2={GC.CollectionCount(2)} alloc_bytes={GC.GetTotalAllocatedBytes(precise: true)} recvs={receives} " +
                $"bytes={bytes} conns={accepted} short_sends={shortSends}";
        }

        /// <summary>Subscribes the shutdown and snapshot signals on <paramref name="loop"/>: SIGINT/SIGTERM drain
        /// <paramref name="server"/>, then stop the loop.</summary>
        public static void SubscribeSignals(Loop loop, EchoOptions o, IEchoServer server)
        {
            loop.Signal(2, (l, _) => GracefulStop.Begin(l, server));     // SIGINT
            loop.Signal(15, (l, _) => GracefulStop.Begin(l, server));    // SIGTERM
            loop.Signal(10, (_, _) => Console.Error.WriteLine(Line("mark", o)));   // SIGUSR1: once per window, not hot
        }
    }
}
