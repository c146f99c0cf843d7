using BenchmarkDotNet.Attributes;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Issue 12, item 4: opt-in SQPOLL (ProactorOptions.SubmissionQueuePolling). The awaited recv/send ping-pong over
/// loopback TCP of <see cref="AsyncPingPongBenchmarks"/> (by fd number) on a default ring and on an SQPOLL ring. The
/// figure that matters on 2 vCPUs is the time per message with the kernel thread taking one of them.
/// </summary>
[Config(typeof(MicroConfig))]
public class SqPollBenchmarks
{
    private const int RoundTrips = 1000, MessageSize = 64;
    private ProactorLoop _plain = null!, _sqPoll = null!;
    private int _a, _b, _c, _d;
    private Func<Task> _plainMain = null!, _sqPollMain = null!;
    private readonly byte[] _clientBuf = GC.AllocateArray<byte>(4096, pinned: true);
    private readonly byte[] _echoBuf = GC.AllocateArray<byte>(4096, pinned: true);

    [GlobalSetup]
    public void Setup()
    {
        _plain = Loop.CreateProactor();
        _sqPoll = Loop.CreateProactor(new ProactorOptions { SubmissionQueuePolling = true });
        (_a, _b) = Posix.LoopbackTcpPair();
        (_c, _d) = Posix.LoopbackTcpPair();
        _plainMain = () => PingPong(_plain, _a, _b);
        _sqPollMain = () => PingPong(_sqPoll, _c, _d);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _sqPoll.Dispose();
        Posix.Close(_a); Posix.Close(_b); Posix.Close(_c); Posix.Close(_d);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips * 2, Description = "proactor, default ring")]
    public void Default() => _plain.Run(_plainMain);

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "proactor, SQPOLL ring")]
    public void SqPoll() => _sqPoll.Run(_sqPollMain);

    private async Task PingPong(Loop loop, int client, int server)
    {
        var echo = Echo(loop, server);
        for (int i = 0; i < RoundTrips; i++)
        {
            await loop.SendAsync(client, _clientBuf.AsMemory(0, MessageSize));
            int got = 0;
            while (got < MessageSize) got += await loop.ReceiveAsync(client, _clientBuf.AsMemory(got));
        }
        await echo;
    }

    private async Task Echo(Loop loop, int fd)
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            int got = 0;
            while (got < MessageSize) got += await loop.ReceiveAsync(fd, _echoBuf.AsMemory(got));
            await loop.SendAsync(fd, _echoBuf.AsMemory(0, MessageSize));
        }
    }
}
