using BenchmarkDotNet.Attributes;
using LinuxEvent.Native;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Cross-thread Post round trip (issue 2): this loop posts to a reactor loop running on another thread, which posts
/// back. Both loops sleep in epoll between messages, so each round trip is two posts and two eventfd wakeups of a
/// sleeping thread. The baseline is the kernel floor for the same pattern: two threads bouncing one byte through two
/// blocking pipes (two cross-thread wakeups, no loop at all).
/// </summary>
[Config(typeof(MicroConfig))]
public class CrossThreadBenchmarks
{
    private const int RoundTrips = 1000;

    private ReactorLoop _loop = null!, _remote = null!;
    private Thread _remoteThread = null!;
    private PingState _ping = null!;

    private int _toEchoR, _toEchoW, _backR, _backW;
    private Thread _echoThread = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = Loop.CreateReactor();
        _remote = Loop.CreateReactor();
        _ping = new PingState(_loop, _remote);
        _remoteThread = new Thread(() => _remote.Run()) { IsBackground = true, Name = "remote loop" };
        _remoteThread.Start();
        while (!_remote.IsRunning) Thread.Yield();

        (_toEchoR, _toEchoW) = Posix.Pipe(nonBlocking: false);
        (_backR, _backW) = Posix.Pipe(nonBlocking: false);
        _echoThread = new Thread(() =>
        {
            Span<byte> b = stackalloc byte[1];
            while (Posix.TryRead(_toEchoR, b) == 1) Posix.TryWrite(_backW, b);
        }) { IsBackground = true, Name = "pipe echo" };
        _echoThread.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _remote.Stop();
        _remoteThread.Join();
        _remote.Dispose();
        _loop.Dispose();
        Posix.Close(_toEchoW);                  // the echo thread reads EOF and ends
        _echoThread.Join();
        Posix.Close(_toEchoR); Posix.Close(_backR); Posix.Close(_backW);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips, Description = "Raw: 2 threads, blocking pipe ping-pong")]
    public void RawPipeThreads()
    {
        Span<byte> b = stackalloc byte[1];
        for (int i = 0; i < RoundTrips; i++)
        {
            Posix.TryWrite(_toEchoW, b);
            Posix.TryRead(_backR, b);
        }
    }

    [Benchmark(OperationsPerInvoke = RoundTrips, Description = "Post round trip between 2 loops on 2 threads")]
    public void PostRoundTrip()
    {
        _ping.Remaining = RoundTrips;
        _remote.Post(PingState.OnRemote, _ping);
        _loop.Run();
    }

    private sealed class PingState(ReactorLoop local, ReactorLoop remote)
    {
        public int Remaining;
        public static readonly Action<Loop, object?> OnRemote = static (_, s) => { var p = (PingState)s!; p.Local.Post(OnLocal!, p); };
        public static readonly Action<Loop, object?> OnLocal = static (l, s) =>
        {
            var p = (PingState)s!;
            if (--p.Remaining > 0) p.Remote.Post(OnRemote, p);
            else l.Stop();
        };
        public readonly ReactorLoop Local = local;
        public readonly ReactorLoop Remote = remote;
    }
}
