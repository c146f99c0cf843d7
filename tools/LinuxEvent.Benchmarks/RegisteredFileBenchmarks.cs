using BenchmarkDotNet.Attributes;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Issue 12, item 4: io_uring registered files for <see cref="LoopFd"/> (ProactorOptions.RegisteredFileSlots). The
/// same awaited recv/send ping-pong over loopback TCP as <see cref="AsyncPingPongBenchmarks"/>, through LoopFd
/// registrations, with the registered file table off (the fd number: fget/fput per request) and on
/// (IOSQE_FIXED_FILE). One operation = one message (an awaited send plus an awaited receive).
/// </summary>
[Config(typeof(MicroConfig))]
public class RegisteredFileBenchmarks
{
    private const int RoundTrips = 1000, MessageSize = 64;
    private ProactorLoop _plain = null!, _fixed = null!;
    private int _a, _b, _c, _d;
    private LoopFd[] _fds = [];
    private Func<Task> _plainMain = null!, _fixedMain = null!;
    private readonly byte[] _clientBuf = GC.AllocateArray<byte>(4096, pinned: true);
    private readonly byte[] _echoBuf = GC.AllocateArray<byte>(4096, pinned: true);

    [GlobalSetup]
    public void Setup()
    {
        _plain = Loop.CreateProactor();
        _fixed = Loop.CreateProactor(new ProactorOptions { RegisteredFileSlots = 64 });
        // The table is filled only by the thread that drives the ring: bind both rings to this one first.
        _plain.RunOnce(TimeSpan.Zero);
        _fixed.RunOnce(TimeSpan.Zero);
        (_a, _b) = Posix.LoopbackTcpPair();
        (_c, _d) = Posix.LoopbackTcpPair();
        var (pa, pb, fa, fb) = (_plain.Register(_a), _plain.Register(_b), _fixed.Register(_c), _fixed.Register(_d));
        _fds = [pa, pb, fa, fb];
        if (_fixed.IoFds[_c] is not Proactor.ProactorFd { FixedSlot: >= 0 }) throw new InvalidOperationException("the registered file table was not used");
        _plainMain = () => PingPong(pa, pb);
        _fixedMain = () => PingPong(fa, fb);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var fd in _fds) fd.Dispose();
        _plain.Dispose();
        _fixed.Dispose();
        Posix.Close(_a); Posix.Close(_b); Posix.Close(_c); Posix.Close(_d);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips * 2, Description = "proactor LoopFd, fd numbers")]
    public void FdNumbers() => _plain.Run(_plainMain);

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "proactor LoopFd, registered file table")]
    public void RegisteredTable() => _fixed.Run(_fixedMain);

    private async Task PingPong(LoopFd client, LoopFd server)
    {
        var echo = Echo(server);
        for (int i = 0; i < RoundTrips; i++)
        {
            await client.SendAsync(_clientBuf.AsMemory(0, MessageSize));
            int got = 0;
            while (got < MessageSize) got += await client.ReceiveAsync(_clientBuf.AsMemory(got));
        }
        await echo;
    }

    private async Task Echo(LoopFd end)
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            int got = 0;
            while (got < MessageSize) got += await end.ReceiveAsync(_echoBuf.AsMemory(got));
            await end.SendAsync(_echoBuf.AsMemory(0, MessageSize));
        }
    }
}
