using BenchmarkDotNet.Attributes;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Issue 12, item 4: zero-copy send (ProactorOptions.ZeroCopySendThreshold, IORING_OP_SEND_ZC). One loop streams
/// <see cref="Size"/>-byte sends over a loopback TCP pair while the same loop drains the other end; one operation = 32 MiB
/// streamed (32 MiB / <see cref="Size"/> sends, each fully written, all received). Plain SEND (threshold off) against SEND_ZC (threshold
/// 16 KiB), which completes only after its notification CQE. On loopback the receiving socket gets a copy of the pages
/// (skb_orphan_frags_rx), so the copy moves rather than disappears: expect little gain here.
/// </summary>
[Config(typeof(MicroConfig))]
public class ZeroCopySendBenchmarks
{
    private const long BytesPerInvoke = 32L << 20;
    private ProactorLoop _plain = null!, _zc = null!;
    private int _a, _b, _c, _d;
    private LoopFd[] _fds = [];
    private Func<Task> _plainMain = null!, _zcMain = null!;
    private byte[] _data = [], _sink = [];

    /// <summary>Bytes per send.</summary>
    [Params(64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    private int Sends => (int)(BytesPerInvoke / Size);

    [GlobalSetup]
    public void Setup()
    {
        _data = GC.AllocateArray<byte>(Size, pinned: true);
        _sink = GC.AllocateArray<byte>(1 << 20, pinned: true);
        new Random(1).NextBytes(_data);
        _plain = Loop.CreateProactor();
        _zc = Loop.CreateProactor(new ProactorOptions { ZeroCopySendThreshold = 16 * 1024 });
        if (((Proactor.UringProactorBackend)_zc.Backend).ZeroCopySendThreshold == 0)
            throw new InvalidOperationException("this kernel has no IORING_OP_SEND_ZC");
        (_a, _b) = Posix.LoopbackTcpPair();
        (_c, _d) = Posix.LoopbackTcpPair();
        var (pa, pb, za, zb) = (_plain.Register(_a), _plain.Register(_b), _zc.Register(_c), _zc.Register(_d));
        _fds = [pa, pb, za, zb];
        _plainMain = () => Stream(pa, pb);
        _zcMain = () => Stream(za, zb);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var fd in _fds) fd.Dispose();
        _plain.Dispose();
        _zc.Dispose();
        Posix.Close(_a); Posix.Close(_b); Posix.Close(_c); Posix.Close(_d);
    }

    [Benchmark(Baseline = true, Description = "SEND (copy)")]
    public void PlainSend() => _plain.Run(_plainMain);

    [Benchmark(Description = "SEND_ZC (threshold 16 KiB)")]
    public void ZeroCopySend() => _zc.Run(_zcMain);

    private async Task Stream(LoopFd sender, LoopFd receiver)
    {
        var drain = Drain(receiver, (long)Sends * Size);
        for (int i = 0; i < Sends; i++)
            for (int sent = 0; sent < Size;) sent += await sender.SendAsync(_data.AsMemory(sent));
        await drain;
    }

    private async Task Drain(LoopFd end, long total)
    {
        for (long got = 0; got < total;) got += await end.ReceiveAsync(_sink);
    }
}
