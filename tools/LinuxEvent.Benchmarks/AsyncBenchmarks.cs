using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using LinuxEvent.Native;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Awaited recv/send ping-pong over loopback TCP (issue 4): our ReceiveAsync/SendAsync on the reactor and on the
/// proactor, by fd number and through a registration (<see cref="Loop.Register"/>), against
/// System.Net.Sockets.Socket.ReceiveAsync/SendAsync(Memory&lt;byte&gt;) on the same kind of connection.
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
    // Receive buffers are larger than a message, as in a server: a receive returns fewer bytes than it could take
    // (which is what lets a LoopFd registration skip the EAGAIN probe on the next receive).
    private const int BufferSize = 4096;

    private ReactorLoop _reactor = null!, _reactorReg = null!;
    private ProactorLoop _proactor = null!, _proactorReg = null!;
    private int _ra, _rb, _pa, _pb, _rra, _rrb, _pra, _prb;
    private LoopFd[] _registrations = [];
    private Socket _sa = null!, _sb = null!;
    private readonly byte[] _clientBuf = GC.AllocateArray<byte>(BufferSize, pinned: true);
    private readonly byte[] _echoBuf = GC.AllocateArray<byte>(BufferSize, pinned: true);
    private Func<Task> _reactorMain = null!, _proactorMain = null!, _reactorRegMain = null!, _proactorRegMain = null!;

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
        (_ra, _rb) = Posix.LoopbackTcpPair();
        (_pa, _pb) = Posix.LoopbackTcpPair();
        // The registered variants get their own loops and sockets: a registered fd refuses the fd-number path's watcher.
        _reactorReg = Loop.CreateReactor();
        _proactorReg = Loop.CreateProactor();
        (_rra, _rrb) = Posix.LoopbackTcpPair();
        (_pra, _prb) = Posix.LoopbackTcpPair();
        var (rra, rrb, pra, prb) = (_reactorReg.Register(_rra), _reactorReg.Register(_rrb), _proactorReg.Register(_pra), _proactorReg.Register(_prb));
        _registrations = [rra, rrb, pra, prb];
        var (sa, sb) = Posix.LoopbackTcpPair();
        _sa = new Socket(new SafeSocketHandle(sa, ownsHandle: true));
        _sb = new Socket(new SafeSocketHandle(sb, ownsHandle: true));
        _reactorMain = () => LoopPingPong(new FdEnd(_reactor, _ra), new FdEnd(_reactor, _rb));
        _proactorMain = () => LoopPingPong(new FdEnd(_proactor, _pa), new FdEnd(_proactor, _pb));
        _reactorRegMain = () => LoopPingPong(new RegisteredEnd(rra), new RegisteredEnd(rrb));
        _proactorRegMain = () => LoopPingPong(new RegisteredEnd(pra), new RegisteredEnd(prb));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var r in _registrations) r.Dispose();
        _reactor.Dispose();
        _proactor.Dispose();
        _reactorReg.Dispose();
        _proactorReg.Dispose();
        Posix.Close(_ra); Posix.Close(_rb); Posix.Close(_pa); Posix.Close(_pb);
        Posix.Close(_rra); Posix.Close(_rrb); Posix.Close(_pra); Posix.Close(_prb);
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

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "LinuxEvent reactor (epoll), LoopFd registration")]
    public void ReactorRegistered() => _reactorReg.Run(_reactorRegMain);

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "LinuxEvent proactor (io_uring), LoopFd registration")]
    public void ProactorRegistered() => _proactorReg.Run(_proactorRegMain);

    /// <summary>One end of the ping-pong: by fd number or through a registration (a class, so no boxing per call).</summary>
    private abstract class End
    {
        public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer);
        public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer);
    }

    private sealed class FdEnd(Loop loop, int fd) : End
    {
        public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer) => loop.SendAsync(fd, buffer);
        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => loop.ReceiveAsync(fd, buffer);
    }

    private sealed class RegisteredEnd(LoopFd fd) : End
    {
        public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer) => fd.SendAsync(buffer);
        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => fd.ReceiveAsync(buffer);
    }

    private async Task LoopPingPong(End client, End server)
    {
        // The echo task starts first and suspends in its first receive; the client then drives the exchange.
        var echo = LoopEcho(server, _echoBuf, RoundTrips);
        long before = 0;
        var buf = _clientBuf;
        for (int i = 0; i < RoundTrips; i++)
        {
            // Start counting after the first round trip: the first suspension of each async method boxes its state machine.
            if (i == 1) before = GC.GetAllocatedBytesForCurrentThread();
            int sent = await client.SendAsync(buf.AsMemory(0, MessageSize));
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
            int got = 0;
            while (got < MessageSize)
            {
                int n = await client.ReceiveAsync(buf.AsMemory(got));
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
        }
        LastLoopAllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        await echo;
    }

    private static async Task LoopEcho(End end, byte[] buf, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int got = 0;
            while (got < MessageSize)
            {
                int n = await end.ReceiveAsync(buf.AsMemory(got));
                if (n == 0) throw new InvalidOperationException("EOF");
                got += n;
            }
            int sent = await end.SendAsync(buf.AsMemory(0, MessageSize));
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
        }
    }

    private static async Task SocketClient(Socket s, byte[] buf, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int sent = await s.SendAsync(buf.AsMemory(0, MessageSize), SocketFlags.None);
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
            int sent = await s.SendAsync(buf.AsMemory(0, MessageSize), SocketFlags.None);
            if (sent != MessageSize) throw new InvalidOperationException($"short send {sent}");
        }
    }
}
