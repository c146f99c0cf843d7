using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace LinuxEvent.UdpBench;

/// <summary>
/// The load generator: <c>--clients</c> connected UDP sockets on one epoll reactor loop, each keeping <c>--depth</c>
/// datagrams of <c>--size</c> bytes in flight and sending one more per echo it gets back (every echo's length is
/// checked). UDP may drop under overload: a client that got nothing back during a 250 ms tick while it had datagrams
/// in flight counts them lost and sends a fresh window, so a drop never stalls the run. Each datagram carries its
/// client's window number: an echo of a datagram already counted lost (it was only late) is counted as an echo but
/// does not open a new slot, so the depth never grows beyond <c>--depth</c>. After <c>--warmup</c> seconds
/// it counts echoes for <c>--seconds</c> and samples the server's CPU time (utime+stime of all its threads, from
/// /proc/PID/stat) over the same window. Prints one line of key=value pairs.
/// </summary>
internal static class LoadClient
{
    private sealed class Flow
    {
        public int Fd;
        public int InFlight;
        public long Echoes;
        public long EchoesAtTick;
        public int Window;
        public byte[] Payload = [];
    }

    public static int Run(Options o)
    {
        int port = o.Int("port", 0, 1);
        int serverPid = o.Int("server-pid", 0);
        int clients = o.Int("clients", 32, 1);
        int depth = o.Int("depth", 32, 1);
        int size = o.Int("size", 32, 4);
        int seconds = o.Int("seconds", 5, 1);
        int warmup = o.Int("warmup", 1, 0);
        o.CheckAllUsed();

        var server = new IPEndPoint(IPAddress.Loopback, port);
        using var loop = Loop.CreateReactor();
        var buffer = new byte[65536];
        var flows = new Flow[clients];
        long lost = 0, late = 0, errors = 0, badEchoes = 0, counted = 0;
        bool measuring = false;

        void Send(Flow f)
        {
            int n = Posix.TrySend(f.Fd, f.Payload);
            if (n == f.Payload.Length) f.InFlight++;
            else errors++;                             // EAGAIN (client send buffer full) or a refusal: retried by the tick
        }

        try
        {
            for (int i = 0; i < clients; i++)
            {
                var f = flows[i] = new Flow { Fd = Posix.CreateDatagramSocket(System.Net.Sockets.AddressFamily.InterNetwork), Payload = new byte[size] };
                Posix.SetSocketOption(f.Fd, 1, 8 /* SO_RCVBUF */, 1 << 20);
                int rc = Posix.TryConnect(f.Fd, server);
                if (rc != 0) throw new LinuxEventException(-rc, $"connect(udp, {server})");
                loop.Watch(f.Fd, WatchOptions.Read, w =>
                {
                    var flow = (Flow)w.Data!;
                    while (true)
                    {
                        int n = Posix.TryReceive(flow.Fd, buffer);
                        if (n < 0)
                        {
                            if (n != -Posix.EAGAIN) errors++;  // ECONNREFUSED: the server is not (yet) there
                            return;
                        }
                        if (n != size) badEchoes++;
                        flow.Echoes++;
                        if (measuring) counted++;
                        if (BitConverter.ToInt32(buffer, 0) != flow.Window)
                        {
                            late++;                        // counted lost already; its slot was refilled then
                            continue;
                        }
                        flow.InFlight--;
                        Send(flow);
                    }
                }, null).Data = f;
                for (int d = 0; d < depth; d++) Send(f);
            }

            loop.Every(TimeSpan.FromMilliseconds(250), _ =>
            {
                foreach (var f in flows)
                {
                    if (f.Echoes == f.EchoesAtTick && f.InFlight > 0)
                    {
                        lost += f.InFlight;
                        f.InFlight = 0;
                        BitConverter.TryWriteBytes(f.Payload, ++f.Window);
                    }
                    f.EchoesAtTick = f.Echoes;
                    while (f.InFlight < depth && errors < 1_000_000) Send(f);
                }
            });

            long serverTicksA = 0, serverTicksB = 0, startTs = 0, endTs = 0;

            var cpuA = Process.GetCurrentProcess().TotalProcessorTime;
            var cpuB = cpuA;
            loop.After(TimeSpan.FromSeconds(warmup), _ =>
            {
                measuring = true;
                lost = late = errors = badEchoes = 0;
                serverTicksA = ProcessTicks(serverPid);
                cpuA = Process.GetCurrentProcess().TotalProcessorTime;
                startTs = Stopwatch.GetTimestamp();
            });
            loop.After(TimeSpan.FromSeconds(warmup + seconds), l =>
            {
                measuring = false;
                endTs = Stopwatch.GetTimestamp();
                serverTicksB = ProcessTicks(serverPid);
                cpuB = Process.GetCurrentProcess().TotalProcessorTime;
                l.Stop();
            });
            loop.Run();

            double window = Stopwatch.GetElapsedTime(startTs, endTs).TotalSeconds;
            double rate = counted / window;
            double serverCpu = serverPid > 0 ? (serverTicksB - serverTicksA) * 100.0 / ClockTicksPerSecond / window : double.NaN;
            double serverUs = serverPid > 0 && counted > 0 ? (serverTicksB - serverTicksA) * 1e6 / ClockTicksPerSecond / counted : double.NaN;
            double clientCpu = (cpuB - cpuA).TotalSeconds * 100 / window;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dgrams_per_s={rate:F0} srv_us_per_dgram={serverUs:F2} srv_cpu={serverCpu:F0} cli_cpu={clientCpu:F0} lost={lost} late={late} errors={errors} bad={badEchoes} clients={clients} depth={depth} size={size} secs={window:F2}"));
            return badEchoes == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var f in flows) if (f is not null) Posix.CloseQuietly(f.Fd);
        }
    }

    /// <summary>USER_HZ: /proc/PID/stat counts in these ticks (100 on every Linux configuration .NET supports).</summary>
    private const double ClockTicksPerSecond = 100;

    /// <summary>utime+stime of the whole process (all threads, live and exited), in clock ticks; 0 without a pid.</summary>
    internal static long ProcessTicks(int pid)
    {
        if (pid <= 0) return 0;
        try
        {
            string s = File.ReadAllText($"/proc/{pid}/stat");
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (IOException) { return 0; }
    }
}
