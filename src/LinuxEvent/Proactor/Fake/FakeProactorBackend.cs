using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>
/// Deterministic completions: nothing reaches the kernel except the loop's own wake/adaptor fds (a real
/// <see cref="FakeSideChannel"/>). Operations wait in submission order until the test settles them through
/// <see cref="FakeCompletions"/>; settled callbacks run at the next dispatch in settle order. Timeouts are timers on
/// the loop's virtual clock, so they interleave with loop timers by (deadline, scheduling order). Nops complete by
/// themselves at the next dispatch. A cancel settles at once (<see cref="FakeCancelMode.Immediate"/>) or waits for the
/// script (<see cref="FakeCancelMode.Scripted"/>); the io_uring behaviours a script cannot express with a plain
/// completion (a multishot receive re-armed after ENOBUFS or after a CQ overflow, completions held back by a full CQ)
/// are applied here exactly as the uring backend applies them.
/// </summary>
internal sealed partial class FakeProactorBackend : ProactorBackendBase
{
    private readonly ProactorLoop _loop;
    private readonly FakeSideChannel _side;
    private readonly List<Operation> _pending = new();
    private readonly List<Operation> _nops = new();
    private readonly Queue<Settlement> _queue = new();
    private readonly List<Operation> _cancelRequests = new();
    private ushort _nextGroup;

    private enum SettlementKind : byte { Final, Accepted, Received, Overflow }

    private readonly struct Settlement(Operation op, SettlementKind kind, int value, byte[]? data, uint generation)
    {
        public readonly Operation Op = op;
        public readonly SettlementKind Kind = kind;
        public readonly int Value = value;
        public readonly byte[]? Data = data;
        public readonly uint Generation = generation;
    }

    public FakeProactorBackend(ProactorLoop loop, ProactorIoDriver driver, FakeClock? clock) : base(driver)
    {
        _loop = loop;
        _side = new FakeSideChannel(loop, clock);
        Control = new FakeCompletions(this, loop);
    }

    public FakeCompletions Control { get; }
    public override string Name => "fake";
    public override bool IsVirtualClock => true;
    public override long ReadClock() => _side.Now;
    public override bool HasQueuedWork => _queue.Count > 0 || _nops.Count > 0;

    public IReadOnlyList<Operation> Pending => _pending;

    /// <summary>Operations whose Cancel() was requested in <see cref="FakeCancelMode.Scripted"/> mode and not yet answered.</summary>
    public IReadOnlyList<Operation> CancelRequests => _cancelRequests;

    public FakeCancelMode CancelMode { get; set; }

    /// <summary>Settlements dispatched per iteration (0: all); the rest wait in order, as CQEs in the overflow list.</summary>
    public int CompletionQueueCapacity { get; set; }

    /// <summary>Told of every submission (and re-arm); set by a simulated kernel.</summary>
    public Action<Operation>? Submitted { get; set; }

    /// <summary>Told of every cancel request in Scripted mode.</summary>
    public Action<Operation>? CancelRequested { get; set; }

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
        if (Submitted is not { } hook) return;
        try
        {
            hook(op);
        }
        catch
        {
            // The submission fails as a whole (the driver releases the slot): nothing of it may stay behind.
            if (op.State == OperationState.Pending) Unsubmit(op);
            throw;
        }
    }

    private void Unsubmit(Operation op)
    {
        _pending.Remove(op);
        _nops.Remove(op);
        _cancelRequests.Remove(op);
        if (op.Kind == OperationKind.Timeout && op.BackendState is TimerHandle t) t.Cancel();
        if (op.Kind == OperationKind.ReceiveMultishot) op.BufferPool!.Users--;
    }

    /// <summary>Settles now (state, slot, pin) and queues the callback for the next dispatch.</summary>
    public void Resolve(Operation op, int res)
    {
        if (op.Kind == OperationKind.ReceiveMultishot && op.State == OperationState.Pending) op.BufferPool!.Users--;
        _pending.Remove(op);
        if (op.CancelRequested) _cancelRequests.Remove(op);
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
        if (op.CancelRequested) _cancelRequests.Remove(op);
        var next = op.ChainNext;
        if (!Driver.ApplyResult(op, res)) return;
        DisarmLinkTimer(op);
        Driver.RunSettledCallback(op);
        if (next is not null) EndOrContinueChain(op, next);
    }

    public void QueueAccepted(Operation op, int fd) => _queue.Enqueue(new Settlement(op, SettlementKind.Accepted, fd, null, op.Generation));

    public void QueueReceived(Operation op, byte[] data) => _queue.Enqueue(new Settlement(op, SettlementKind.Received, data.Length, data, op.Generation));

    /// <summary>A CQ overflow ends a multishot operation after the items queued so far (handled at dispatch, in order).</summary>
    public void QueueOverflow(Operation op) => _queue.Enqueue(new Settlement(op, SettlementKind.Overflow, 0, null, op.Generation));

    public override void Cancel(Operation op)
    {
        // Like the kernel's ASYNC_CANCEL, which does not find a linked request that has not been issued yet: a chain step
        // still waiting for the one before it runs when its turn comes (or is cancelled with the chain).
        if (op.IsWaitingForChain) return;
        if (CancelMode == FakeCancelMode.Scripted)
        {
            // io_uring's cancel is a request of its own: the target settles later, as cancelled or with its result.
            _cancelRequests.Add(op);
            CancelRequested?.Invoke(op);
            return;
        }
        if (op.Kind == OperationKind.Timeout && op.BackendState is TimerHandle t) t.Cancel();
        Resolve(op, -Errno.ECANCELED);
    }

    /// <summary>The script answered a cancel request: the cancel won.</summary>
    public void ConfirmCancel(Operation op)
    {
        if (op.Kind == OperationKind.Timeout && op.BackendState is TimerHandle t) t.Cancel();
        Resolve(op, -Errno.ECANCELED);
    }

    /// <summary>The script answered a cancel request with -EALREADY: the operation runs on and completes normally.</summary>
    public void RejectCancel(Operation op) => _cancelRequests.Remove(op);

    /// <summary>
    /// A multishot receive's buffer group ran dry: the kernel ends it with -ENOBUFS. Like the uring backend, re-arm it
    /// (it stays pending; its buffers are all back, since each is recycled right after its callback), unless a cancel
    /// was requested: then it settles as Cancelled, ENOBUFS being an internal detail.
    /// </summary>
    public void NoBuffers(Operation op)
    {
        if (op.CancelRequested) Resolve(op, -Errno.ECANCELED);
        else Submitted?.Invoke(op);                      // the re-arm is a new submission under the same identity
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
        Dispatch(CompletionQueueCapacity);
    }

    private void Dispatch(int capacity = 0)
    {
        int n = _queue.Count;                // settlements queued by these callbacks run next iteration, never lost
        if (capacity > 0 && n > capacity) n = capacity;      // a full CQ: the rest waits in order, like overflowed CQEs
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
                    // Queued before the operation was resubmitted: its place in the queue is before the final settlement
                    // (a cancel settles the fake at once), so it is delivered, as the kernel's CQE order would have it.
                    if (s.Op.Generation == s.Generation) Driver.DeliverReceived(s.Op, s.Data, precedesFinal: true);
                    break;
                case SettlementKind.Overflow:
                    if (s.Op.Generation == s.Generation && s.Op.State == OperationState.Pending) EndByOverflow(s.Op);
                    break;
            }
        }
    }

    /// <summary>
    /// The uring backend's answer to a multishot final CQE without IORING_CQE_F_MORE that is not an error: an accept
    /// settles Completed with 0 (its owner re-arms it); a receive is re-armed invisibly, or settles Cancelled if a
    /// cancel was requested.
    /// </summary>
    private void EndByOverflow(Operation op)
    {
        if (op.Kind == OperationKind.ReceiveMultishot && !op.CancelRequested)
        {
            Submitted?.Invoke(op);
            return;
        }
        int res = op.Kind == OperationKind.ReceiveMultishot ? -Errno.ECANCELED : 0;
        if (op.Kind == OperationKind.ReceiveMultishot) op.BufferPool!.Users--;
        _pending.Remove(op);
        if (op.CancelRequested) _cancelRequests.Remove(op);
        if (Driver.ApplyResult(op, res)) Driver.RunSettledCallback(op);
    }

    public override void Wake() => _side.Wake();

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _side.WatchReadable(fd, callback, state);

    public override bool OwnsFd(int fd) => _side.OwnsFd(fd);

    public override bool SupportsSharedReceiveRing => true;

    public override bool MayRegisterNow => true;

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
        _cancelRequests.Clear();
        while (_queue.Count > 0) Dispatch();
    }

    public override void Dispose()
    {
        _pending.Clear();
        _nops.Clear();
        _queue.Clear();
        _cancelRequests.Clear();
        _side.Dispose();
    }

    private sealed class ManagedPoolStorage(int count, int size) : BufferPoolStorage
    {
        // Fake deliveries carry their own bytes; the memory exists only for a caller that asks for a buffer.
        private byte[]? _memory;
        public override Span<byte> Buffer(ushort id, int length) => (_memory ??= new byte[count * size]).AsSpan(id * size, length);
        public override void Recycle(ushort id) { }
        public override void Dispose() { }
    }
}
