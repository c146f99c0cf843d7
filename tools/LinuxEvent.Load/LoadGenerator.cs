using System.Globalization;
using System.Net;
using LinuxEvent;

namespace LinuxEvent.Load;

/// <summary>
/// The load generator (see Program.cs for what it does and prints). One reactor loop, raw non-blocking sockets,
/// writes straight from a pattern table, reads into one buffer: the steady state allocates nothing.
/// </summary>
internal sealed class LoadGenerator
{
    private const int Pat = 100003;            // prime; the table holds 2*Pat bytes so a window of <= Pat is contiguous
    private const int Chunk = 64 * 1024;       // bytes per read/write call; <= Pat
    private const long DrainNs = 1_000_000_000; // open loop: how long in-window messages may still complete after the window

    private readonly Options _o;
    private readonly byte[] _pattern = new byte[2 * Pat];
    private readonly byte[] _buffer = new byte[Chunk];
    private readonly Connection[] _conns;
    private readonly Connection[] _dirty;
    private readonly long[] _owed;             // closed loop: DEPTH owed-times per connection
    private readonly Histogram _latency = new(), _lag = new();
    private readonly long _size, _rate;
    private ReactorLoop _loop = null!;
    private TimerHandle? _scheduler;
    private int _ndirty, _connected;
    private bool _measuring, _draining;
    private long _tStart, _tWarm, _tEnd, _tMeasured, _tStop, _nextG, _outstanding;
    private TimeSpan _cpu0, _cpu1;
    private int _gen0;
    private long _alloc;

    private static readonly Action<Watcher> s_onReadable = static w => s_self!.OnReadable((Connection)w.Data!);
    private static readonly Action<Watcher> s_onWritable = static w => s_self!.Flush((Connection)w.Data!);
    private static readonly Action<Watcher> s_onConnected = static w => s_self!.OnConnected((Connection)w.Data!);
    private static LoadGenerator? s_self;      // one generator per process; avoids a closure per watcher

    public LoadGenerator(Options o)
    {
        _o = o;
        _size = o.Size;
        _rate = o.Rate;
        _conns = new Connection[o.Conns];
        _dirty = new Connection[o.Conns];
        _owed = _rate == 0 ? new long[(long)o.Conns * o.Depth] : [];
        ulong x = 0x2545F4914F6CDD1DUL;        // splitmix64, as loadgen.c: both generators send the same bytes
        for (int i = 0; i < Pat; i++)
        {
            ulong z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            _pattern[i] = _pattern[i + Pat] = (byte)(z ^ (z >> 31));
        }
        s_self = this;
    }

    private static long Now() => Loop.MonotonicNanoseconds();

    private static TimeSpan CpuTime()
    {
        var u = Environment.CpuUsage;
        return u.UserTime + u.PrivilegedTime;
    }

    private void Die(Connection? c, string what, int errno = 0)
    {
        Console.Error.WriteLine($"LinuxEvent.Load: conn {c?.Id ?? -1}: {what}{(errno != 0 ? $" (errno {errno})" : "")}");
        Console.Out.WriteLine($"msgs_per_s=0 conns={_o.Conns} size={_o.Size} depth={_o.Depth} errors=1");
        Console.Out.Flush();
        Environment.Exit(1);
    }

    /// <summary>Scheduled time of open-loop message <paramref name="g"/>.</summary>
    private long Sched(long g) => _tStart + (long)((Int128)g * 1_000_000_000 / _rate);

    public int Run()
    {
        using var loop = Loop.CreateReactor();
        _loop = loop;
        Connect();
        _tStart = Now();
        _tWarm = _tStart + (long)(_o.Warmup * 1e9);
        _tEnd = _tWarm + (long)(_o.Seconds * 1e9);
        _tMeasured = _tStart;
        _cpu0 = CpuTime();
        if (_o.Warmup == 0) StartMeasuring();
        else loop.At(_tWarm, this, static (_, g) => g.StartMeasuring());
        loop.At(_tEnd, this, static (l, g) => g.OnWindowEnd(l));
        if (_rate == 0)
        {
            foreach (var c in _conns)
                for (int k = 0; k < _o.Depth; k++) { _owed[c.RingOffset + k] = _tStart; Owe(c); }
            FlushDirty();
        }
        else _scheduler = loop.At(_tStart, this, static (_, g) => g.OnSchedule());
        loop.Run();
        if (_tStop == 0) _tStop = Now();
        return Report();
    }

    private void StartMeasuring()
    {
        _measuring = true;
        _tMeasured = Now();
        _cpu0 = CpuTime();
        _gen0 = GC.CollectionCount(0);
        _alloc = GC.GetTotalAllocatedBytes(true);
    }

    private void OnWindowEnd(Loop loop)
    {
        _cpu1 = CpuTime();
        _gen0 = GC.CollectionCount(0) - _gen0;
        _alloc = GC.GetTotalAllocatedBytes(true) - _alloc;
        if (_rate == 0 || _outstanding == 0) { _tStop = Now(); loop.Stop(); return; }
        _draining = true;                                       // open loop: give in-window messages time to come back
        _scheduler?.Cancel();
        loop.At(_tEnd + DrainNs, this, static (l, g) => { g._tStop = Now(); l.Stop(); });
    }

    private int Report()
    {
        long total = 0, minConn = long.MaxValue, unfinished = 0;
        foreach (var c in _conns)
        {
            for (long k = c.Done; _rate != 0 && k < c.Issued; k++)
            {
                long s = Sched(k * _conns.Length + c.Id);
                if (s >= _tWarm && s < _tEnd) { _latency.Record(_tStop - s); unfinished++; }
            }
            total += c.Measured;
            minConn = Math.Min(minConn, c.Measured);
            c.Watcher.Cancel();
            Posix.Close(c.Fd);
        }
        // Closed loop: completions were counted from the start of measuring to the window's end timer; open loop:
        // messages scheduled in the nominal window.
        double window = (_rate == 0 ? _tStop - _tMeasured : _tEnd - _tWarm) / 1e9;
        double cpu = (_cpu1 - _cpu0).TotalSeconds / ((_tEnd - _tMeasured) / 1e9) * 100;
        double Us(long ns) => ns / 1e3;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"msgs_per_s={total / window:F0} MBps={total * (double)_size / window / 1e6:F2} p50_us={Us(_latency.Quantile(0.5)):F1} " +
            $"p90_us={Us(_latency.Quantile(0.9)):F1} p99_us={Us(_latency.Quantile(0.99)):F1} p999_us={Us(_latency.Quantile(0.999)):F1} " +
            $"max_us={Us(_latency.Quantile(1)):F1} conns={_o.Conns} size={_size} depth={_o.Depth} secs={window:F2} minconn_msgs={minConn} " +
            $"cli_cpu={cpu:F0} errors=0 mode={(_rate == 0 ? "closed" : "open")} gen0={_gen0} alloc_bytes={_alloc}");
        if (_rate != 0)
            line += string.Create(CultureInfo.InvariantCulture,
                $" rate={_rate} lag_p99_us={Us(_lag.Quantile(0.99)):F1} lag_max_us={Us(_lag.Quantile(1)):F1} unfinished={unfinished}");
        Console.Out.WriteLine(line);
        return 0;
    }

    // ------------------------------------------------------------ connecting

    private void Connect()
    {
        var remote = new IPEndPoint(_o.Host, _o.Port);
        for (int i = 0; i < _conns.Length; i++)
        {
            var c = new Connection { Id = i, Base = ((long)i * 7919 + 101) % Pat, RingOffset = _rate == 0 ? i * _o.Depth : 0 };
            _conns[i] = c;
            c.Fd = Posix.StartTcpConnect(remote, out int errno);
            if (c.Fd < 0) Die(c, "connect failed", errno);
            c.Watcher = _loop.Watch(c.Fd, WatchOptions.Write, null, s_onConnected);
            c.Watcher.Data = c;
        }
        long deadline = Environment.TickCount64 + 5000;         // bounds connect()
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

    private void Owe(Connection c)
    {
        c.Goal += _size;
        c.Issued++;
        _outstanding++;
        if (!c.Dirty) { c.Dirty = true; _dirty[_ndirty++] = c; }
    }

    private void FlushDirty()
    {
        for (int i = 0; i < _ndirty; i++) { _dirty[i].Dirty = false; Flush(_dirty[i]); }
        _ndirty = 0;
    }

    /// <summary>Open loop: owes every message whose scheduled time has come, then sleeps until the next one.</summary>
    private void OnSchedule()
    {
        long now = Now();
        for (long s; (s = Sched(_nextG)) <= now && s < _tEnd; _nextG++)
        {
            if (s >= _tWarm) _lag.Record(now - s);
            Owe(_conns[_nextG % _conns.Length]);
        }
        FlushDirty();
        long next = Sched(_nextG);
        if (next < _tEnd) _scheduler!.Restart(TimeSpan.FromTicks(Math.Max(0, (next - _loop.NowNanoseconds + 99) / 100)));
    }

    /// <summary>Writes owed bytes straight from the pattern table; watches writability only while the socket is full.</summary>
    private void Flush(Connection c)
    {
        while (c.Tx < c.Goal)
        {
            long n = Math.Min(c.Goal - c.Tx, Chunk);
            int w = Posix.TrySend(c.Fd, _pattern.AsSpan((int)((c.Base + c.Tx) % Pat), (int)n));
            if (w < 0)
            {
                if (w == -Posix.EAGAIN) break;
                Die(c, "send failed", -w);
            }
            c.Tx += w;
        }
        bool want = c.Tx < c.Goal;
        if (want == c.OutArmed) return;
        if (want) c.Watcher.EnableWrite(); else c.Watcher.DisableWrite();
        c.OutArmed = want;
    }

    private void OnReadable(Connection c)
    {
        int n = Posix.TryReceive(c.Fd, _buffer);
        if (n < 0)
        {
            if (n == -Posix.EAGAIN) return;
            Die(c, "receive failed", -n);
        }
        if (n == 0) Die(c, "server closed the connection early");
        if (c.Rx + n > c.Tx) Die(c, "server echoed more bytes than were sent");
        var got = new ReadOnlySpan<byte>(_buffer, 0, n);
        var want = new ReadOnlySpan<byte>(_pattern, (int)((c.Base + c.Rx) % Pat), n);
        if (!got.SequenceEqual(want))
        {
            int i = got.CommonPrefixLength(want);
            Console.Error.WriteLine($"LinuxEvent.Load: conn {c.Id}: byte {c.Rx + i} of the stream is 0x{got[i]:x2}, expected 0x{want[i]:x2}");
            Die(c, "echo mismatch");
        }
        c.Rx += n;
        long t = Now();
        while (c.Rx >= (c.Done + 1) * _size) Complete(c, t);
        FlushDirty();
        if (_draining && _outstanding == 0) { _tStop = t; _loop.Stop(); }
    }

    /// <summary>One message of <paramref name="c"/> completed at <paramref name="t"/>.</summary>
    private void Complete(Connection c, long t)
    {
        _outstanding--;
        if (_rate == 0)
        {
            int slot = c.RingOffset + (int)(c.Done % _o.Depth);
            if (_measuring) { _latency.Record(t - _owed[slot]); c.Measured++; }
            c.Done++;
            _owed[slot] = t;                                    // the freed slot carries the next message
            Owe(c);
            return;
        }
        long s = Sched(c.Done * _conns.Length + c.Id);
        if (s >= _tWarm && s < _tEnd) { _latency.Record(t - s); c.Measured++; }
        c.Done++;
    }
}
