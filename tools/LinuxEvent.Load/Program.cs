// LinuxEvent.Load: single-threaded TCP echo load generator on LinuxEvent's reactor (epoll), raw non-blocking sockets.
//
//   LinuxEvent.Load -p PORT [-c CONNS=50] [-s MSG_BYTES=64] [-d DEPTH=1] [-t SECS=10] [-w WARMUP_SECS=0] [-h 127.0.0.1]
//
// Same algorithm and output as peers/echoload.c, so the two are interchangeable: each connection keeps DEPTH
// messages of MSG_BYTES in flight (writes DEPTH messages, then one more each time a message's worth of bytes has come
// back) and checks every echoed byte against a per-connection deterministic pattern (the same xorshift64 table and
// per-connection offsets as echoload). Latency is per message, issue to full echo, in a log-linear histogram (64
// sub-buckets per octave, ~1.5% resolution) that allocates nothing. Prints one key=value line:
//
//   msgs_per_s=... MBps=... p50_us=... p99_us=... p999_us=... max_us=... conns=.. size=.. depth=.. secs=..
//   minconn_msgs=.. cli_cpu=.. errors=0 gen0=.. alloc_bytes=..
//
// (gen0/alloc_bytes: this process's own GC count and allocation during the measured window.) Exit 1 on mismatch,
// early close, extra bytes or connect failure; 2 on bad arguments.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace LinuxEvent.Load
{
    internal static class Program
    {
        private static int Main(string[] args)
        {
            Options o;
            try { o = Options.Parse(args); }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"LinuxEvent.Load: {ex.Message}");
                Console.Error.WriteLine(Options.Usage);
                return 2;
            }
            if (o.Help) { Console.Out.WriteLine(Options.Usage); return 0; }
            return new LoadGenerator(o).Run();
        }
    }

    internal sealed class Options
    {
        public const string Usage =
            "usage: LinuxEvent.Load -p PORT [-c CONNS=50] [-s MSG_BYTES=64] [-d DEPTH=1] [-t SECS=10] [-w WARMUP_SECS=0] [-h 127.0.0.1]\n" +
            "       (long forms: --port --conns --size --depth --seconds --warmup --host)";

        public int Port, Conns = 50, Size = 64, Depth = 1;
        public double Seconds = 10, Warmup;
        public IPAddress Host = IPAddress.Loopback;
        public bool Help;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string V() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                int I() { string v = V(); return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x : throw new ArgumentException($"{a}: bad number '{v}'"); }
                double D() { string v = V(); return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x : throw new ArgumentException($"{a}: bad number '{v}'"); }
                switch (a)
                {
                    case "-p" or "--port": o.Port = I(); break;
                    case "-c" or "--conns": o.Conns = I(); break;
                    case "-s" or "--size": o.Size = I(); break;
                    case "-d" or "--depth": o.Depth = I(); break;
                    case "-t" or "--seconds": o.Seconds = D(); break;
                    case "-w" or "--warmup": o.Warmup = D(); break;
                    case "-h" or "--host":
                        string h = V();
                        if (!IPAddress.TryParse(h, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.GetAddressBytes()[0] != 127)
                            throw new ArgumentException("host must be an IPv4 loopback address (127.x.x.x)");
                        o.Host = ip;
                        break;
                    case "--help": o.Help = true; break;
                    default: throw new ArgumentException($"unknown argument '{a}'");
                }
            }
            if (o.Help) return o;
            if (o.Port is <= 0 or > 65535 || o.Conns < 1 || o.Size < 1 || o.Depth < 1 || o.Seconds <= 0 || o.Seconds > 3600 || o.Warmup < 0 || o.Warmup > 3600)
                throw new ArgumentException("bad arguments");
            if ((long)o.Size * o.Depth > int.MaxValue) throw new ArgumentException("size × depth too large");
            return o;
        }
    }

    /// <summary>Log-linear latency histogram in nanoseconds, as in echoload.c (2^6 sub-buckets per octave). Allocation-free after construction.</summary>
    internal sealed class Histogram
    {
        private const int Sub = 6;
        private readonly long[] _counts = new long[(64 - Sub + 1) << Sub];
        public long Count;

        public void Add(long ns)
        {
            ulong v = (ulong)Math.Max(ns, 0);
            int idx;
            if (v < 1u << Sub) idx = (int)v;
            else
            {
                int e = System.Numerics.BitOperations.Log2(v);
                idx = ((e - Sub) << Sub) + (int)(v >> (e - Sub));
            }
            _counts[idx]++;
            Count++;
        }

        /// <summary>The <paramref name="p"/> quantile in µs (bucket midpoint).</summary>
        public double PercentileUs(double p)
        {
            if (Count == 0) return 0;
            long target = (long)(p * Count + 0.999999), seen = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                if ((seen += _counts[i]) < target) continue;
                if (i < 2 << Sub) return i / 1000.0;
                int sh = (i >> Sub) - 1;
                ulong lo = (ulong)((i & ((1 << Sub) - 1)) | (1 << Sub)) << sh;
                return (lo + (1UL << sh) / 2) / 1000.0;
            }
            return 0;
        }
    }

    internal sealed class Connection
    {
        public int Fd = -1, Id;
        public bool OutArmed, Connected;
        public long Base;                         // pattern offset of this connection
        public long Tx, TxGoal, Rx;               // bytes written, bytes owed, bytes echoed
        public long Issued, Done, DoneAtWarm;
        public int TsOffset;                      // ring of Depth issue times in LoadGenerator._ts
        public Watcher Watcher = null!;
    }

    internal sealed class LoadGenerator
    {
        private const int PatLen = 131071;       // prime; the table holds 2*PatLen bytes
        private const int ReadChunk = 64 * 1024; // <= PatLen

        private readonly Options _o;
        private readonly byte[] _pattern = new byte[2 * PatLen];
        private readonly byte[] _buffer = new byte[ReadChunk];
        private readonly Connection[] _conns;
        private readonly long[] _ts;
        private readonly Histogram _hist = new();
        private readonly int _size, _depth;
        private readonly double _tickToNs;
        private ReactorLoop _loop = null!;
        private bool _measuring;
        private long _t0, _tEnd;
        private TimeSpan _cpu0;
        private int _gen0AtWarm;
        private long _allocAtWarm;
        private int _connected;

        private static readonly Action<Watcher> s_onReadable = static w => { var c = (Connection)w.Data!; s_self!.OnReadable(c); };
        private static readonly Action<Watcher> s_onWritable = static w => { var c = (Connection)w.Data!; s_self!.Flush(c); };
        private static readonly Action<Watcher> s_onConnectWritable = static w => s_self!.OnConnected((Connection)w.Data!);
        private static LoadGenerator? s_self;    // one generator per process; avoids a closure per watcher

        public LoadGenerator(Options o)
        {
            _o = o;
            _size = o.Size;
            _depth = o.Depth;
            _conns = new Connection[o.Conns];
            _ts = new long[(long)o.Conns * o.Depth];
            _tickToNs = 1e9 / Stopwatch.Frequency;
            ulong x = 0x9E3779B97F4A7C15UL;
            for (int i = 0; i < PatLen; i++)
            {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                _pattern[i] = _pattern[i + PatLen] = (byte)(x >> 32);
            }
            s_self = this;
        }

        private long NowNs() => _tickToNs == 1.0 ? Stopwatch.GetTimestamp() : (long)(Stopwatch.GetTimestamp() * _tickToNs);

        private void Die(Connection? c, string what, int errno = 0)
        {
            Console.Error.WriteLine($"LinuxEvent.Load: conn {(c?.Id ?? -1)}: {what}{(errno != 0 ? $" (errno {errno})" : "")}");
            Console.Out.WriteLine($"msgs_per_s=0 MBps=0 p50_us=0 p99_us=0 conns={_o.Conns} errors=1");
            Console.Out.Flush();
            Environment.Exit(1);
        }

        public int Run()
        {
            using var loop = Loop.CreateReactor();
            _loop = loop;
            Connect();

            long start = NowNs();
            long warmEnd = start + (long)(_o.Warmup * 1e9), end = warmEnd + (long)(_o.Seconds * 1e9);
            _t0 = start;
            _cpu0 = CpuTime();
            _measuring = _o.Warmup == 0;
            if (_measuring) { _gen0AtWarm = GC.CollectionCount(0); _allocAtWarm = GC.GetTotalAllocatedBytes(true); }
            for (int i = 0; i < _conns.Length; i++)         // prime the pipelines
            {
                var c = _conns[i];
                for (int k = 0; k < _depth; k++) _ts[c.TsOffset + (int)(c.Issued++ % _depth)] = start;
                c.TxGoal = (long)_depth * _size;
                Flush(c);
            }
            if (!_measuring) loop.At(ToLoopClock(warmEnd), this, static (_, self) => self.StartMeasuring());
            loop.At(ToLoopClock(end), this, static (l, self) => { self._tEnd = self.NowNs(); l.Stop(); });
            loop.Run();

            long total = 0, minConn = long.MaxValue;
            foreach (var c in _conns)
            {
                long d = c.Done - c.DoneAtWarm;
                total += d;
                if (d < minConn) minConn = d;
            }
            double elapsed = (_tEnd - _t0) / 1e9;
            double cpu = (CpuTime() - _cpu0).TotalSeconds / elapsed * 100;
            int gen0 = GC.CollectionCount(0) - _gen0AtWarm;
            long alloc = GC.GetTotalAllocatedBytes(true) - _allocAtWarm;
            foreach (var c in _conns) { c.Watcher.Cancel(); Posix.Close(c.Fd); }
            var ci = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(ci,
                $"msgs_per_s={total / elapsed:F0} MBps={total * (double)_size / elapsed / 1e6:F2} p50_us={_hist.PercentileUs(0.50):F1} " +
                $"p99_us={_hist.PercentileUs(0.99):F1} p999_us={_hist.PercentileUs(0.999):F1} max_us={_hist.PercentileUs(1.0):F1} " +
                $"conns={_o.Conns} size={_size} depth={_depth} secs={elapsed:F2} minconn_msgs={minConn} cli_cpu={cpu:F0} errors=0 " +
                $"gen0={gen0} alloc_bytes={alloc}"));
            return 0;
        }

        /// <summary>The loop's timers use CLOCK_MONOTONIC; so does Stopwatch on Linux. Convert in case the scales differ.</summary>
        private long ToLoopClock(long nowNsDeadline) => Loop.MonotonicNanoseconds() + (nowNsDeadline - NowNs());

        private static TimeSpan CpuTime()
        {
            var u = Environment.CpuUsage;
            return u.UserTime + u.PrivilegedTime;
        }

        private void StartMeasuring()
        {
            _measuring = true;
            _t0 = NowNs();
            _cpu0 = CpuTime();
            _gen0AtWarm = GC.CollectionCount(0);
            _allocAtWarm = GC.GetTotalAllocatedBytes(true);
            foreach (var c in _conns) c.DoneAtWarm = c.Done;
        }

        // ------------------------------------------------------------ connecting

        private void Connect()
        {
            var remote = new IPEndPoint(_o.Host, _o.Port);
            for (int i = 0; i < _conns.Length; i++)
            {
                var c = new Connection { Id = i, Base = ((long)i * 40503 + 17) % PatLen, TsOffset = i * _depth };
                _conns[i] = c;
                c.Fd = Posix.StartTcpConnect(remote, out int errno);
                if (c.Fd < 0) Die(c, "connect failed", errno);
                c.Watcher = _loop.Watch(c.Fd, WatchOptions.Write, null, s_onConnectWritable);
                c.Watcher.Data = c;
            }
            long deadline = Environment.TickCount64 + 3000;          // bounds connect(), as echoload's SO_SNDTIMEO
            while (_connected < _conns.Length)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0) Die(null, $"connect timed out ({_connected}/{_conns.Length} connected)");
                _loop.RunOnce(TimeSpan.FromMilliseconds(left));
            }
        }

        private void OnConnected(Connection c)
        {
            if (c.Connected) return;
            int err = Posix.GetSocketOption(c.Fd, 1 /* SOL_SOCKET */, 4 /* SO_ERROR */);
            if (err != 0) Die(c, "connect failed", err);
            c.Connected = true;
            Posix.SetTcpNoDelay(c.Fd);
            c.Watcher = _loop.Watch(c.Fd, WatchOptions.Read, s_onReadable, s_onWritable);   // replaces the connect watcher
            c.Watcher.Data = c;
            _connected++;
        }

        // ------------------------------------------------------------ steady state (allocation-free)

        /// <summary>Writes owed bytes straight from the pattern table; arms writability only while blocked.</summary>
        private void Flush(Connection c)
        {
            while (c.Tx < c.TxGoal)
            {
                long n = Math.Min(c.TxGoal - c.Tx, PatLen);
                int w = Posix.TrySend(c.Fd, _pattern.AsSpan((int)((c.Base + c.Tx) % PatLen), (int)n));
                if (w < 0)
                {
                    if (w == -Posix.EAGAIN) break;
                    Die(c, "write failed", -w);
                }
                c.Tx += w;
            }
            bool want = c.Tx < c.TxGoal;
            if (want != c.OutArmed)
            {
                if (want) c.Watcher.EnableWrite(); else c.Watcher.DisableWrite();
                c.OutArmed = want;
            }
        }

        private void OnReadable(Connection c)
        {
            var buf = _buffer;
            int n = Posix.TryReceive(c.Fd, buf);
            if (n < 0)
            {
                if (n == -Posix.EAGAIN) return;
                Die(c, "read failed", -n);
            }
            if (n == 0) Die(c, "server closed connection early");
            if (c.Rx + n > c.Tx) Die(c, "echoed more bytes than sent");
            var got = new ReadOnlySpan<byte>(buf, 0, n);
            var want = new ReadOnlySpan<byte>(_pattern, (int)((c.Base + c.Rx) % PatLen), n);
            if (!got.SequenceEqual(want))
            {
                int i = got.CommonPrefixLength(want);
                Console.Error.WriteLine($"LinuxEvent.Load: conn {c.Id}: mismatch at stream byte {c.Rx + i}: got 0x{got[i]:x2} want 0x{want[i]:x2}");
                Die(c, "echo mismatch");
            }
            c.Rx += n;
            long t = NowNs();
            long size = _size;
            // Each fully echoed message completes and frees its slot for a new one.
            while (c.Rx >= (c.Done + 1) * size)
            {
                if (_measuring) _hist.Add(t - _ts[c.TsOffset + (int)(c.Done % _depth)]);
                c.Done++;
                _ts[c.TsOffset + (int)(c.Issued++ % _depth)] = t;
                c.TxGoal += size;
            }
            Flush(c);
        }
    }
}
