using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>
/// Deterministic completions: nothing reaches the kernel except the loop's own wake/adaptor fds (a real
/// <see cref="FakeSideChannel"/>). Operations wait in submission order until the test settles them through
/// <see cref="FakeCompletions"/>; settled callbacks run at the next dispatch in settle order. Timeouts are timers on
/// the loop's virtual clock, so they interleave with loop timers by (deadline, scheduling order). Nops complete by
/// themselves at the next dispatch.
/// </summary>
internal sealed partial class FakeProactorBackend : ProactorBackendBase
{
    private readonly ProactorLoop _loop;
    private readonly FakeSideChannel _side;
    private readonly List<Operation> _pending = new();
    private readonly List<Operation> _nops = new();
    private readonly Queue<Settlement> _queue = new();
    private ushort _nextGroup;

    private enum SettlementKind : byte { Final, Accepted, Received }

    private readonly struct Settlement(Operation op, SettlementKind kind, int value, byte[]? data, uint generation)
    {
        public readonly Operation Op = op;
        public readonly SettlementKind Kind = kind;
        public readonly int Value = value;
        public readonly byte[]? Data = data;
        public readonly uint Generation = generation;
    }

    public FakeProactorBackend(ProactorLoop loop, ProactorIoDriver driver) : base(driver)
    {
        _loop = loop;
        _side = new FakeSideChannel(loop);
        Control = new FakeCompletions(this, loop);
    }

    public FakeCompletions Control { get; }
    public override string Name => "fake";
    public override bool IsVirtualClock => true;
    public override long ReadClock() => _side.Now;
    public override bool HasQueuedWork => _queue.Count > 0 || _nops.Count > 0;

    public IReadOnlyList<Operation> Pending => _pending;

    public void AdvanceClock(long ns) => _side.Advance(ns);

    public override void Submit(Operation op)
    {
        _pending.Add(op);
        if (op.LinkTimeoutNs >= 0) ArmLinkTimer(op);
        switch (op.Kind)
        {
            case OperationKind.Nop:
                // Completes at the next dispatch, like a kernel round trip; a chain step only once its turn comes
                // (FakeProactorBackend.Links.cs).
                if (!op.IsWaitingForChain) _nops.Add(op);
                break;
            case OperationKind.Timeout:
                op.BackendState = _loop.After(TimeSpan.FromTicks(Math.Min(op.TimeoutNs / 100, TimeSpan.MaxValue.Ticks)), op,
                    static (loop, o) => ((ProactorLoop)loop).ProactorDriver.FakeTimeoutFired(o));
                break;
            case OperationKind.ReceiveMultishot:
                op.BufferPool!.Users++;
                break;
        }
    }

    /// <summary>Settles now (state, slot, pin) and queues the callback for the next dispatch.</summary>
    public void Resolve(Operation op, int res)
    {
        if (op.Kind == OperationKind.ReceiveMultishot && op.State == OperationState.Pending) op.BufferPool!.Users--;
        _pending.Remove(op);
        uint gen = op.Generation;
        var next = op.ChainNext;
        if (!Driver.ApplyResult(op, res)) return;
        DisarmLinkTimer(op);
        op.CallbackPending = true;          // Resubmit waits for the callback, as on a real ring
        _queue.Enqueue(new Settlement(op, SettlementKind.Final, res, null, gen));
        if (next is not null) EndOrContinueChain(op, next);
    }

    /// <summary>Settles and runs the callback right away: used from inside the loop's timer phase so that timeouts
    /// keep their place among timers with equal deadlines.</summary>
    public void ResolveNow(Operation op, int res)
    {
        _pending.Remove(op);
        var next = op.ChainNext;
        if (!Driver.ApplyResult(op, res)) return;
        DisarmLinkTimer(op);
        Driver.RunSettledCallback(op);
        if (next is not null) EndOrContinueChain(op, next);
    }

    public void QueueAccepted(Operation op, int fd) => _queue.Enqueue(new Settlement(op, SettlementKind.Accepted, fd, null, op.Generation));

    public void QueueReceived(Operation op, byte[] data) => _queue.Enqueue(new Settlement(op, SettlementKind.Received, data.Length, data, op.Generation));

    public override void Cancel(Operation op)
    {
        // Like the kernel's ASYNC_CANCEL, which does not find a linked request that has not been issued yet: a chain step
        // still waiting for the one before it runs when its turn comes (or is cancelled with the chain).
        if (op.IsWaitingForChain) return;
        if (op.Kind == OperationKind.Timeout && op.BackendState is TimerHandle t) t.Cancel();
        Resolve(op, -Errno.ECANCELED);
    }

    public override void Wait(long timeoutNs)
    {
        _side.WaitVirtually(HasQueuedWork ? 0 : timeoutNs);
        _loop.OnWaitReturned();
        if (_nops.Count > 0)
        {
            // A nop that is the next chain step is added while this runs: it completes at the following dispatch.
            int n = _nops.Count;
            for (int i = 0; i < n; i++) if (_nops[i].State == OperationState.Pending) Resolve(_nops[i], 0);
            _nops.RemoveRange(0, n);
        }
        Dispatch();
    }

    private void Dispatch()
    {
        int n = _queue.Count;                // settlements queued by these callbacks run next iteration, never lost
        for (int i = 0; i < n; i++)
        {
            var s = _queue.Dequeue();
            switch (s.Kind)
            {
                case SettlementKind.Final:
                    Driver.RunSettledCallback(s.Op);
                    break;
                case SettlementKind.Accepted:
                    if (s.Op.Generation == s.Generation) Driver.DeliverAccepted(s.Op, s.Value);
                    else Libc.Close(s.Value);             // a stale item for a retired stream: never leak the fd
                    break;
                case SettlementKind.Received:
                    if (s.Op.Generation == s.Generation) Driver.DeliverReceived(s.Op, s.Data);
                    break;
            }
        }
    }

    public override void Wake() => _side.Wake();

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _side.WatchReadable(fd, callback, state);

    public override bool OwnsFd(int fd) => _side.OwnsFd(fd);

    public override ProvidedBufferPool CreateBufferPool(int count, int size)
        => new(_loop, _nextGroup++, count, size, new ManagedPoolStorage(count, size));

    public override void FlushSubmissions(string call) { }      // the fake has no queue between submit and "kernel"

    public override void CheckKernelAccess(string call) { }

    public override void DrainForDispose()
    {
        foreach (var op in _pending.ToArray())
        {
            if (op.Kind == OperationKind.Timeout && op.BackendState is TimerHandle t) t.State = TimerHandle.TimerState.Cancelled;
            if (op.LinkTimer is { } lt) lt.State = TimerHandle.TimerState.Cancelled;
            op.CancelRequested = true;
            Resolve(op, -Errno.ECANCELED);
        }
        while (_queue.Count > 0) Dispatch();
    }

    public override void Dispose()
    {
        _pending.Clear();
        _nops.Clear();
        _queue.Clear();
        _side.Dispose();
    }

    private sealed class ManagedPoolStorage(int count, int size) : BufferPoolStorage
    {
        private readonly byte[] _memory = new byte[count * size];
        public override Span<byte> Buffer(ushort id, int length) => _memory.AsSpan(id * size, length);
        public override void Recycle(ushort id) { }
        public override void Dispose() { }
    }
}
