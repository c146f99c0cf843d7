using BenchmarkDotNet.Attributes;
using LinuxEvent.Native;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Timers on an epoll reactor (issue 2). The loop is created and driven by the benchmark thread (RunOnce), which is
/// the loop thread for the duration of each call.
/// </summary>
[Config(typeof(MicroConfig))]
[CategoriesColumn]
public class ReactorTimerBenchmarks
{
    private const int Batch = 32;
    private static readonly Action<Loop, Counter> s_count = static (_, c) => c.Value++;

    private ReactorLoop _loop = null!;
    private readonly Counter _counter = new();
    private TimerHandle _handle = null!;
    private readonly TimerHandle[] _batch = new TimerHandle[Batch];
    private TimerHandle[] _background = [];

    /// <summary>Far-future timers already in the deadline heap, so insert/remove do real O(log n) work.</summary>
    [Params(0, 1000)]
    public int PendingTimers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _loop = Loop.CreateReactor();
        _handle = _loop.After(TimeSpan.FromHours(1), _counter, s_count);
        _handle.Cancel();
        for (int i = 0; i < Batch; i++) { _batch[i] = _loop.After(TimeSpan.FromHours(1), _counter, s_count); _batch[i].Cancel(); }
        _background = new TimerHandle[PendingTimers];
        for (int i = 0; i < PendingTimers; i++) _background[i] = _loop.After(TimeSpan.FromHours(2) + TimeSpan.FromTicks(i * 7919 % 10007), _counter, s_count);
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>Zero-allocation path: re-arm one handle (Restart) and cancel it.</summary>
    [BenchmarkCategory("schedule+cancel"), Benchmark(Description = "Timer Restart+Cancel (reused handle)")]
    public bool RestartCancel()
    {
        _handle.Restart(TimeSpan.FromSeconds(30));
        return _handle.Cancel();
    }

    /// <summary>The plain API: After allocates a new TimerHandle each time.</summary>
    [BenchmarkCategory("schedule+cancel"), Benchmark(Baseline = true, Description = "Timer After+Cancel (new handle)")]
    public bool AfterCancel() => _loop.After(TimeSpan.FromSeconds(30), _counter, s_count).Cancel();

    /// <summary>Re-arm a handle for "now" and run one loop iteration that fires it (includes one epoll_pwait2(0)).</summary>
    [BenchmarkCategory("schedule+fire"), Benchmark(Description = "Timer Restart(0)+fire, 1 per RunOnce")]
    public int RestartFire()
    {
        _handle.Restart(TimeSpan.Zero);
        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>The same with a new handle (After) per firing.</summary>
    [BenchmarkCategory("schedule+fire"), Benchmark(Baseline = true, Description = "Timer After(0)+fire, 1 per RunOnce")]
    public int AfterFire()
    {
        _loop.After(TimeSpan.Zero, _counter, s_count);
        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>32 handles re-armed for "now", fired by one iteration: per-timer cost with the syscall amortized.</summary>
    [BenchmarkCategory("schedule+fire"), Benchmark(OperationsPerInvoke = Batch, Description = "Timer Restart(0)+fire, 32 per RunOnce")]
    public int RestartFireBatch32()
    {
        var b = _batch;
        for (int i = 0; i < b.Length; i++) b[i].Restart(TimeSpan.Zero);
        return _loop.RunOnce(TimeSpan.Zero);
    }
}

/// <summary>Post round trips on an epoll reactor (issue 2).</summary>
[Config(typeof(MicroConfig))]
public class ReactorPostBenchmarks
{
    private const int Batch = 32;
    private const int Chain = 1000;

    private static readonly Action<Loop, object?> s_count = static (_, s) => ((Counter)s!).Value++;
    private static readonly Action<Loop, object?> s_chain = static (l, s) =>
    {
        var c = (Counter)s!;
        if (++c.Value < Chain) l.Post(s_chain!, c);
        else l.Stop();
    };

    private ReactorLoop _loop = null!;
    private readonly Counter _counter = new();

    [GlobalSetup]
    public void Setup() => _loop = Loop.CreateReactor();

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>
    /// Post from the thread that drives the loop while it is not inside RunOnce, then one iteration that runs it:
    /// the post writes the wake eventfd, the iteration's epoll_pwait2 reports it and the drain reads it back.
    /// </summary>
    [Benchmark(Description = "Post + RunOnce (eventfd wake each time)")]
    public int PostRunOnce()
    {
        _loop.Post(s_count, _counter);
        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>32 posts (the wakes coalesce into one eventfd write) drained by one iteration.</summary>
    [Benchmark(OperationsPerInvoke = Batch, Description = "Post x32 + one RunOnce (drain)")]
    public int PostBatch32()
    {
        for (int i = 0; i < Batch; i++) _loop.Post(s_count, _counter);
        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>
    /// Post from a callback on the running loop thread (no wakeup needed): each action posts the next, so every post
    /// costs one loop iteration (one epoll_pwait2 with zero timeout plus the drain).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Chain, Description = "Post from loop callback, 1 per iteration")]
    public void PostChainOnLoop()
    {
        _counter.Value = 0;
        _loop.Post(s_chain, _counter);
        _loop.Run();
    }

}

/// <summary>Readiness round trips through a watcher on an epoll reactor (issue 2).</summary>
[Config(typeof(MicroConfig))]
public class ReactorWatcherBenchmarks
{
    private const int Exchanges = 1000;

    private ReactorLoop _loop = null!;
    private int _r1, _w1, _r2, _w2;
    private int _remaining;
    private int _received;
    private Watcher _single = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = Loop.CreateReactor();
        (_r1, _w1) = Posix.Pipe();
        (_r2, _w2) = Posix.Pipe();
        // Pipe 1: read side watched; its callback reads the byte and answers on pipe 2 while a ping-pong is running.
        _single = _loop.Watch(_r1, WatchOptions.Read, static w =>
        {
            var self = (ReactorWatcherBenchmarks)w.Data!;
            Span<byte> b = stackalloc byte[1];
            Posix.TryRead(w.Fd, b);
            self._received++;
            if (self._remaining > 0) Posix.TryWrite(self._w2, b);
        }, null);
        _single.Data = this;
        var back = _loop.Watch(_r2, WatchOptions.Read, static w =>
        {
            var self = (ReactorWatcherBenchmarks)w.Data!;
            Span<byte> b = stackalloc byte[1];
            Posix.TryRead(w.Fd, b);
            if (--self._remaining > 0) Posix.TryWrite(self._w1, b);
            else w.Loop.Stop();
        }, null);
        back.Data = this;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Dispose();
        Posix.Close(_r1); Posix.Close(_w1); Posix.Close(_r2); Posix.Close(_w2);
    }

    /// <summary>write(1 byte) into a pipe, one iteration: epoll reports it, the readable callback reads it.</summary>
    [Benchmark(Description = "Pipe write 1 B -> watcher reads it (1 RunOnce)")]
    public int WriteThenDispatch()
    {
        ReadOnlySpan<byte> one = [42];
        Posix.TryWrite(_w1, one);
        return _loop.RunOnce();
    }

    /// <summary>
    /// Two pipes, two watchers on one loop: each readable callback reads the byte and writes it into the other pipe.
    /// Per operation = one hop (write, epoll wakeup, callback, read).
    /// </summary>
    [Benchmark(OperationsPerInvoke = 2 * Exchanges, Description = "Pipe ping-pong via 2 watchers, per hop")]
    public void PingPong()
    {
        _remaining = Exchanges;
        ReadOnlySpan<byte> one = [42];
        Posix.TryWrite(_w1, one);
        _loop.Run();
    }
}

internal sealed class Counter
{
    public long Value;
}
