using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LinuxEvent.Net;

namespace LinuxEvent.FanoutBench;

/// <summary>The verifying fan-out client: N subscribers and one publisher on one reactor loop.</summary>
internal static class FanoutClient
{
    private static int s_size;

    /// <summary>The delivered byte at stream offset <paramref name="offset"/>: message k is SIZE-1 copies of a letter
    /// that depends on k, then a newline (the server's line codec frames it).</summary>
    private static byte Pattern(long offset)
    {
        long k = Math.DivRem(offset, s_size, out long p);
        return p == s_size - 1 ? (byte)'\n' : (byte)('a' + (int)(k % 26));
    }

    private sealed class Subscriber
    {
        public long Received;
    }

    public static int Run(string[] args)
    {
        int port = 0, subs = 50, size = 64, window = 64;
        double seconds = 10, warmup = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string V() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int I() => int.Parse(V(), CultureInfo.InvariantCulture);
            double D() => double.Parse(V(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "-p" or "--port": port = I(); break;
                case "-c" or "--subscribers": subs = I(); break;
                case "-s" or "--size": size = I(); break;
                case "-d" or "--window": window = I(); break;
                case "-t" or "--seconds": seconds = D(); break;
                case "-w" or "--warmup": warmup = D(); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (port is <= 0 or > 65535 || subs < 1 || size < 2 || window < 1 || seconds <= 0 || warmup < 0) throw new ArgumentException("bad arguments");

        s_size = size;
        using var loop = Loop.CreateReactor();
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var subscribers = new Subscriber[subs];
        var streams = new List<LoopStream>();
        int errors = 0;
        long published = 0;                      // messages
        var message = new byte[size];
        LoopStream? publisher = null;

        long MinDelivered()
        {
            long min = long.MaxValue;
            foreach (var s in subscribers) min = Math.Min(min, s.Received);
            return min / size;
        }

        void Publish()
        {
            if (publisher is null || publisher.IsClosed) return;
            long min = MinDelivered();
            while (published - min < window)
            {
                long offset = published * size;
                for (int k = 0; k < size; k++) message[k] = Pattern(offset + k);
                publisher.Write(message);
                published++;
            }
        }

        for (int i = 0; i < subs; i++)
        {
            var socket = Connect(endpoint, "S\n"u8, expectAck: true);
            var sub = subscribers[i] = new Subscriber();
            var stream = new LoopStream(loop, socket, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            stream.Data = sub;
            stream.OnData = (s, data) =>
            {
                var me = (Subscriber)s.Data!;
                long at = me.Received;
                for (int k = 0; k < data.Length; k++)
                {
                    if (data[k] != Pattern(at + k)) { errors++; loop.Stop(); return; }
                }
                me.Received = at + data.Length;
                Publish();
            };
            stream.OnClose = (_, r) => { if (r != CloseReason.Local) { errors++; loop.Stop(); } };
            stream.Start();
            streams.Add(stream);
        }
        publisher = new LoopStream(loop, Connect(endpoint, "P\n"u8, expectAck: false), new LoopStreamOptions { FdKind = StreamFdKind.Socket });
        publisher.OnData = (_, _) => { };
        publisher.OnClose = (_, r) => { if (r != CloseReason.Local) { errors++; loop.Stop(); } };
        publisher.Start();
        streams.Add(publisher);

        long startDelivered = 0, startPublished = 0;
        TimeSpan startCpu = default;
        long startTicks = 0;
        long Delivered() { long n = 0; foreach (var s in subscribers) n += s.Received / size; return n; }
        loop.After(TimeSpan.FromSeconds(warmup), _ =>
        {
            startDelivered = Delivered();
            startPublished = published;
            startCpu = Process.GetCurrentProcess().TotalProcessorTime;
            startTicks = Stopwatch.GetTimestamp();
            loop.After(TimeSpan.FromSeconds(seconds), l => l.Stop());
        });
        loop.Post(_ => Publish());
        loop.Run();
        double elapsed = Stopwatch.GetElapsedTime(startTicks).TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - startCpu).TotalSeconds;
        long delivered = Delivered() - startDelivered;
        foreach (var s in streams) s.Close();
        loop.RunOnce(TimeSpan.Zero);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv,
            $"msgs_per_s={delivered / elapsed:F0} published_per_s={(published - startPublished) / elapsed:F0} subs={subs} size={size} window={window} secs={elapsed:F3} cli_cpu={100 * cpu / elapsed:F1} errors={(errors == 0 ? 0 : 1)} mode=fanout"));
        return errors == 0 ? 0 : 1;
    }

    private static Socket Connect(IPEndPoint endpoint, ReadOnlySpan<byte> role, bool expectAck)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(endpoint);
        socket.Send(role);
        if (expectAck)
        {
            var ack = new byte[2];
            int got = 0;
            while (got < 2) { int n = socket.Receive(ack, got, 2 - got, SocketFlags.None); if (n <= 0) break; got += n; }
            if (got != 2 || ack[0] != (byte)'K') throw new IOException("fanout: the server did not acknowledge a subscriber");
        }
        socket.Blocking = false;
        return socket;
    }
}
