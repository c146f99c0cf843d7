using BenchmarkDotNet.Attributes;
using LinuxEvent.Native;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// Operations on an io_uring proactor (issue 3). Operation objects are created once and resubmitted
/// (<see cref="ProactorLoop.Resubmit(Operation)"/>), the allocation-free steady state; the allocating
/// one-object-per-call API is measured next to it for comparison.
/// </summary>
[Config(typeof(MicroConfig))]
[CategoriesColumn]
public class ProactorOperationBenchmarks
{
    private const int Batch = 32;
    private static readonly Action<Operation> s_done = static op => ((Counter)op.Data!).Value++;

    private ProactorLoop _loop = null!;
    private readonly Counter _counter = new();
    private Operation _nop = null!;
    private readonly Operation[] _nops = new Operation[Batch];
    private Operation _timeout = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = Loop.CreateProactor();
        _nop = Settled(_loop.Nop(s_done));
        for (int i = 0; i < Batch; i++) _nops[i] = Settled(_loop.Nop(s_done));
        _timeout = _loop.Timeout(TimeSpan.FromSeconds(30), s_done);
        _timeout.Data = _counter;
        _timeout.Cancel();
        while (!_timeout.IsSettled) _loop.RunOnce();
    }

    private Operation Settled(Operation op)
    {
        op.Data = _counter;
        while (!op.IsSettled) _loop.RunOnce();
        return op;
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>One IORING_OP_NOP resubmitted and reaped: one io_uring_enter (submit + wait) per operation.</summary>
    [BenchmarkCategory("nop"), Benchmark(Description = "Nop resubmit, batch 1")]
    public int NopBatch1()
    {
        _loop.Resubmit(_nop);
        int n = 0;
        while (!_nop.IsSettled) n += _loop.RunOnce();
        return n;
    }

    /// <summary>32 nops resubmitted, then iterations until all 32 completed (normally one io_uring_enter).</summary>
    [BenchmarkCategory("nop"), Benchmark(OperationsPerInvoke = Batch, Description = "Nop resubmit, batch 32")]
    public int NopBatch32()
    {
        var ops = _nops;
        for (int i = 0; i < ops.Length; i++) _loop.Resubmit(ops[i]);
        int n = 0;
        while (!ops[^1].IsSettled) n += _loop.RunOnce();
        return n;
    }

    /// <summary>The plain API: a new Operation per nop.</summary>
    [BenchmarkCategory("nop"), Benchmark(Baseline = true, Description = "Nop new Operation, batch 1")]
    public int NopNew()
    {
        var op = _loop.Nop(s_done);
        op.Data = _counter;
        int n = 0;
        while (!op.IsSettled) n += _loop.RunOnce();
        return n;
    }

    /// <summary>
    /// A 30 s timeout resubmitted and cancelled before it fires: IORING_OP_TIMEOUT plus IORING_OP_TIMEOUT_REMOVE in one
    /// io_uring_enter, then the -ECANCELED completion settles it.
    /// </summary>
    [BenchmarkCategory("timeout"), Benchmark(Description = "Timeout resubmit+cancel")]
    public int TimeoutResubmitCancel()
    {
        _loop.Resubmit(_timeout);
        _timeout.Cancel();
        int n = 0;
        while (!_timeout.IsSettled) n += _loop.RunOnce();
        return n;
    }

    /// <summary>The plain API: a new timeout Operation per schedule/cancel.</summary>
    [BenchmarkCategory("timeout"), Benchmark(Baseline = true, Description = "Timeout new Operation+cancel")]
    public int TimeoutNewCancel()
    {
        var op = _loop.Timeout(TimeSpan.FromSeconds(30), s_done);
        op.Data = _counter;
        op.Cancel();
        int n = 0;
        while (!op.IsSettled) n += _loop.RunOnce();
        return n;
    }
}

/// <summary>
/// recv/send ping-pong on a socketpair, callback style, on both models (issues 2 and 3). One side sends 64 bytes,
/// the other receives them and answers; per operation = one message (one send + one receive).
/// </summary>
[Config(typeof(MicroConfig))]
public class CallbackPingPongBenchmarks
{
    private const int RoundTrips = 1000;
    private const int MessageSize = 64;

    // Reactor
    private ReactorLoop _reactor = null!;
    private int _ra, _rb;
    private int _reactorRemaining;
    private readonly byte[] _reactorBufA = new byte[MessageSize], _reactorBufB = new byte[MessageSize];

    // Proactor
    private ProactorLoop _proactor = null!;
    private int _pa, _pb;
    private int _proactorRemaining;
    private Operation _sendA = null!, _recvA = null!, _sendB = null!, _recvB = null!;
    private readonly byte[] _bufA = GC.AllocateArray<byte>(MessageSize, pinned: true), _bufB = GC.AllocateArray<byte>(MessageSize, pinned: true);
    private readonly byte[] _outA = GC.AllocateArray<byte>(MessageSize, pinned: true), _outB = GC.AllocateArray<byte>(MessageSize, pinned: true);

    [GlobalSetup]
    public void Setup()
    {
        // ---- reactor: level-triggered read watchers; the callback receives and answers with a non-blocking send.
        _reactor = Loop.CreateReactor();
        (_ra, _rb) = Posix.SocketPair();
        var wb = _reactor.Watch(_rb, WatchOptions.Read, static w =>
        {
            var self = (CallbackPingPongBenchmarks)w.Data!;
            int n = Posix.TryReceive(w.Fd, self._reactorBufB);
            if (n > 0) Posix.TrySend(w.Fd, self._reactorBufB.AsSpan(0, n));
        }, null);
        wb.Data = this;
        var wa = _reactor.Watch(_ra, WatchOptions.Read, static w =>
        {
            var self = (CallbackPingPongBenchmarks)w.Data!;
            int n = Posix.TryReceive(w.Fd, self._reactorBufA);
            if (n <= 0) return;
            if (--self._reactorRemaining > 0) Posix.TrySend(w.Fd, self._reactorBufA.AsSpan(0, n));
            else w.Loop.Stop();
        }, null);
        wa.Data = this;

        // ---- proactor: four Operation objects, created once; receives stay in flight between invocations.
        _proactor = Loop.CreateProactor();
        (_pa, _pb) = Posix.SocketPair();
        // Prime the two sends (each settles once, so that the benchmark only resubmits), then drain their bytes.
        _sendA = _proactor.Send(_pa, _outA);
        _sendB = _proactor.Send(_pb, _outB);
        while (!_sendA.IsSettled || !_sendB.IsSettled) _proactor.RunOnce();
        if (_sendA.Result != MessageSize || _sendB.Result != MessageSize) throw new InvalidOperationException("priming sends failed");
        Span<byte> drain = stackalloc byte[MessageSize];
        if (Posix.TryReceive(_pa, drain) != MessageSize || Posix.TryReceive(_pb, drain) != MessageSize) throw new InvalidOperationException("drain failed");
        _recvB = _proactor.Receive(_pb, _bufB, static op =>
        {
            var self = (CallbackPingPongBenchmarks)op.Data!;
            if (op.State != OperationState.Completed || op.Result == 0) return;
            self._proactor.Resubmit(self._sendB);
            self._proactor.Resubmit(op);
        });
        _recvB.Data = this;
        _recvA = _proactor.Receive(_pa, _bufA, static op =>
        {
            var self = (CallbackPingPongBenchmarks)op.Data!;
            if (op.State != OperationState.Completed || op.Result == 0) return;
            self._proactor.Resubmit(op);
            if (--self._proactorRemaining > 0) self._proactor.Resubmit(self._sendA);
            else self._proactor.Stop();
        });
        _recvA.Data = this;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Dispose();
        _proactor.Dispose();
        Posix.Close(_ra); Posix.Close(_rb); Posix.Close(_pa); Posix.Close(_pb);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips * 2, Description = "Reactor: watcher + recv/send, per message")]
    public void Reactor()
    {
        _reactorRemaining = RoundTrips;
        Posix.TrySend(_ra, _reactorBufA);
        _reactor.Run();
    }

    [Benchmark(OperationsPerInvoke = RoundTrips * 2, Description = "Proactor: Resubmit recv/send, per message")]
    public void Proactor()
    {
        _proactorRemaining = RoundTrips;
        _proactor.Resubmit(_sendA);
        _proactor.Run();
    }
}
