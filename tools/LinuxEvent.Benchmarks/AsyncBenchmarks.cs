using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using LinuxEvent.Native;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Awaited recv/send ping-pong on a socketpair (issue 4): our ReceiveAsync/SendAsync on the reactor and on the
/// proactor, against System.Net.Sockets.Socket.ReceiveAsync/SendAsync(Memory&lt;byte&gt;) on the same kind of socketpair.
/// </summary>
/// <remarks>
/// Two tasks: an echo task (await receive, await send back) and a client task (await send, await receive the echo).
/// The client always awaits its receive before the echo is sent, so every receive really suspends and is resumed by
/// the event loop (epoll readiness; io_uring completion; the .NET socket engine's epoll thread + thread pool).
/// One operation = one message (one awaited send + one awaited receive). Each invocation runs
/// <see cref="RoundTrips"/> round trips; the two async state machines (and for LinuxEvent the Run(main) call) are
/// created once per invocation, i.e. amortized over 2,000 messages.
/// </remarks>
[Config(typeof(MicroConfig))]
public class AsyncPingPongBenchmarks
{
    public const int RoundTrips = 1000;
    private const int MessageSize = 64;

    private ReactorLoop _reactor = null!;
    private ProactorLoop _proactor = null!;
    private int _ra, _rb, _pa, _pb;
    private Socket _sa = null!, _sb = null!;
    private readonly byte[] _clientBuf = GC.AllocateArray<byte>(MessageSize, pinned: true);
    private readonly byte[] _echoBuf = GC.AllocateArray<byte>(MessageSize, pinned: true);
    private Func<Task> _reactorMain = null!, _proactorMain = null!;

    /// <summary>
    /// Bytes allocated on the loop thread during round trips 2..N of the last LinuxEvent run (both tasks' awaits;
    /// excludes the one-time state-machine boxes). Printed by <c>--alloc-check</c>.
    /// </summary>
    public long LastLoopAllocatedBytes;

    [GlobalSetup]
    public void Setup()
    {
        _reactor = Loop.CreateReactor();
        _proactor = Loop.CreateProactor();
        (_ra, _rb) = Posix.SocketPair();
        (_pa, _pb) = Posix.SocketPair();
        var (sa, sb) = Posix.SocketPair();
        _sa = new Socket(new SafeSocketHandle(sa, ownsHandle: true));
        _sb = new Socket(new SafeSocketHandle(sb, ownsHandle: true));
        _reactorMain = () => LoopPingPong(_reactor, _ra, _rb);
        _proactorMain = () => LoopPingPong(_proactor, _pa, _pb);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Dispose();
        _proactor.Dispose();
        Posix.Close(_ra); Posix.Close(_rb); Posix.Close(_pa); Posix.Close(_pb);
        _sa.Dispose();
        _sb.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips * 2, Description = "Socket.ReceiveAsync/SendAsync (System.Net.Sockets)")]
    public void Sockets()
    {
        var echo = SocketEcho(_sb, _echoBuf, RoundTrips);
        var client = SocketClient(_sa, _clientBuf, RoundTrips);
        client.GetAwaiter().GetResult();
        echo.GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "LinuxEvent reactor (epoll) ReceiveAsync/SendAsync")]
    public void Reactor() => _reactor.Run(_reactorMain);

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "LinuxEvent proactor (io_uring) ReceiveAsync/SendAsync")]
    public void Proactor() => _proactor.Run(_proactorMain);

    private async Task LoopPingPong(Loop loop, int client, int server)
    {
        // The echo task starts first and suspends in its first receive; the client then drives the exchange.
        var echo = LoopEcho(loop, server, _echoBuf, RoundTrips);
        long before = 0;
        var buf = _clientBuf;
        for (int i = 0; i < RoundTrips; i++)
        {
            // Start counting after the first round trip: the first suspension of each async method boxes its state machine.
            if (i == 1) before = GC.GetAllocatedBytesForCurrentThread();
            int sent = await loop.SendAsync(client, buf);
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
            int got = 0;
            while (got < MessageSize)
            {
                int n = await loop.ReceiveAsync(client, buf.AsMemory(got));
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
        }
        LastLoopAllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        await echo;
    }

    private static async Task LoopEcho(Loop loop, int fd, byte[] buf, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int got = 0;
            while (got < MessageSize)
            {
                int n = await loop.ReceiveAsync(fd, buf.AsMemory(got));
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
            int sent = await loop.SendAsync(fd, buf);
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
        }
    }

    private static async Task SocketClient(Socket s, byte[] buf, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int sent = await s.SendAsync(buf.AsMemory(), SocketFlags.None);
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
            int got = 0;
            while (got < MessageSize)
            {
                int n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
        }
    }

    private static async Task SocketEcho(Socket s, byte[] buf, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int got = 0;
            while (got < MessageSize)
            {
                int n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
            int sent = await s.SendAsync(buf.AsMemory(), SocketFlags.None);
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
        }
    }
}
