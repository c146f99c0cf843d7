using System.Runtime.ExceptionServices;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>
/// The proactor's half of the I/O seam: every request is an <see cref="Operation"/> in a slot, submitted to the backend
/// (one SQE on io_uring, a scripted entry on the fake) and settled exactly once from the backend's completion. On top of
/// that, the async API submits pooled operations (<c>ProactorIoDriver.Async.cs</c>).
/// </summary>
/// <remarks>
/// <para><b>Identity.</b> An operation's user_data is <c>generation &lt;&lt; 32 | slot</c> (bit 63 clear: it marks the
/// backend's own requests). A completion whose generation no longer matches its slot is stale and resolves to null.</para>
/// <para><b>Settlement.</b> -ECANCELED means Cancelled; -ETIME on a timeout is expiry, i.e. success; a success that
/// races a cancel stays Completed, so no received bytes are lost. The slot and the buffer's pin are released at
/// settlement, when the kernel is done with the buffer.</para>
/// </remarks>
internal sealed partial class ProactorIoDriver : IoDriver
{
    private Operation?[] _slots = new Operation?[256];
    private uint[] _slotGenerations = new uint[256];
    private int[] _freeSlots = new int[256];
    private int _freeCount;
    private int _live;
    private bool _disposing;
    private List<Exception>? _disposeErrors;

    public ProactorIoDriver(ProactorLoop loop) : base(loop)
    {
        Proactor = loop;
        for (int i = 0; i < _freeSlots.Length; i++) _freeSlots[i] = _freeSlots.Length - 1 - i;
        _freeCount = _freeSlots.Length;
    }

    internal ProactorLoop Proactor { get; }

    /// <summary>The backend, set once by the loop's constructor.</summary>
    internal ProactorBackendBase Backend { get; set; } = null!;

    /// <summary>The loop-wide receive ring of the stream channels, set once by the loop's constructor.</summary>
    internal StreamReceiveRing StreamRing { get; set; } = null!;

    // The send side of stream channels (send operations, output queues), kept while no channel is sending with it: a
    // connection takes one for as long as it has bytes to send, so an idle connection holds none. The pools keep what
    // was in use at once at their high-water mark (a broadcast to every connection then allocates only the first time),
    // which is never more than keeping one per connection would.
    private readonly Stack<Operation> _idleStreamSends = new();

    private readonly Stack<ByteQueue> _idleQueues = new();

    /// <summary>An empty output queue for a stream channel (pooled, or new).</summary>
    internal ByteQueue RentQueue() => _idleQueues.TryPop(out var q) ? q : new ByteQueue();

    /// <summary>Gives back an output queue; its array goes back to the array pool first.</summary>
    internal void ReturnQueue(ByteQueue queue)
    {
        queue.Release();
        if (!_disposing) _idleQueues.Push(queue);
    }

    /// <summary>A send operation for a stream channel (pooled, or new); submit it with <see cref="ProactorLoop.SubmitSend"/>.</summary>
    internal Operation RentStreamSend(Action<Operation> callback)
        => _idleStreamSends.TryPop(out var op) ? op : new Operation(Proactor, OperationKind.Send, callback);

    /// <summary>Gives back a settled send operation whose callback has read its result.</summary>
    internal void ReturnStreamSend(Operation op)
    {
        op.Data = null;
        op.ConstBuffer = default;
        if (!_disposing) _idleStreamSends.Push(op);
    }

    /// <summary>Operations submitted and not yet settled.</summary>
    public override int LiveCount => _live;

    private int _pinned;

    /// <summary>Operations whose memory is pinned for the kernel right now; a pin deliberately leaked by an abandoned
    /// ring (see <see cref="UringProactorBackend"/>) is never released and keeps counting. Tests read it.</summary>
    internal int PinnedCount => _pinned;

    /// <summary>True once loop disposal has started settling operations.</summary>
    public bool IsDisposing => _disposing;

    // ------------------------------------------------------------------ slots

    /// <summary>
    /// Gives <paramref name="op"/> a slot and a generation, pins its buffer and hands it to the backend. If anything
    /// throws, nothing of the submission remains: no slot, no pin, nothing queued.
    /// </summary>
    internal void Submit(Operation op)
    {
        // Checked without formatting: Enum.ToString boxes, and this runs for every operation.
        if (Loop.IsDisposed || (Loop.IsRunning && !Loop.IsOnLoopThread)) Loop.CheckThread(IoNames.ProactorCall(op.Kind));
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
        if (op.LinkTimeoutNs >= 0) CheckLinkTimeout(op);
        Reserve(op);
        try
        {
            Backend.Submit(op);
        }
        catch
        {
            ReleaseSlot(op);
            throw;
        }
    }

    /// <summary>Gives <paramref name="op"/> a slot and a generation and pins its memory; on failure nothing remains.</summary>
    private void Reserve(Operation op)
    {
        if (_freeCount == 0) GrowSlots();
        int slot = _freeSlots[--_freeCount];
        uint gen = unchecked(_slotGenerations[slot] + 1);
        if (gen == 0) gen = 1;
        _slotGenerations[slot] = gen;
        op.Slot = slot;
        op.Generation = gen;
        _slots[slot] = op;
        _live++;
        try
        {
            // Pinning can throw (a MemoryManager that refuses): inside the try, so the slot is released with it.
            if (op.Kind is OperationKind.Read or OperationKind.Receive or OperationKind.ReceiveMessage) { op.Pin = op.Buffer.Pin(); op.Pinned = true; }
            else if (op.Kind is OperationKind.Write or OperationKind.Send or OperationKind.SendMessage) { op.Pin = op.ConstBuffer.Pin(); op.Pinned = true; }
            else if (op.File is { } file) { file.Pin(); op.Pinned = true; }     // vectors, statx block (all or nothing)
            if (op.Pinned) _pinned++;
        }
        catch
        {
            ReleaseSlot(op);
            throw;
        }
    }

    private void GrowSlots()
    {
        int old = _slots.Length, n = old * 2;
        Array.Resize(ref _slots, n);
        Array.Resize(ref _slotGenerations, n);
        Array.Resize(ref _freeSlots, n);
        for (int i = n - 1; i >= old; i--) _freeSlots[_freeCount++] = i;
    }

    private void ReleaseSlot(Operation op)
    {
        if (op.Pinned) { op.Pin.Dispose(); op.File?.Unpin(); op.Pinned = false; _pinned--; }
        if (op.Slot >= 0)
        {
            _slots[op.Slot] = null;
            _freeSlots[_freeCount++] = op.Slot;
            op.Slot = -1;
        }
        _live--;
    }

    /// <summary>User data for an operation: generation in the high half, slot in the low half. Bit 63 is never set.</summary>
    internal static ulong UserDataOf(Operation op) => ((ulong)(op.Generation & 0x7FFF_FFFF) << 32) | (uint)op.Slot;

    /// <summary>Resolves user data back to the live operation, or null if that submission is gone (a stale completion).</summary>
    internal Operation? Resolve(ulong userData)
    {
        int slot = (int)(uint)userData;
        uint gen = (uint)(userData >> 32);
        if ((uint)slot >= (uint)_slots.Length) return null;
        var op = _slots[slot];
        return op is not null && (op.Generation & 0x7FFF_FFFF) == gen ? op : null;
    }

    /// <summary>Live operations (for disposal, diagnostics and CloseAfterCancel).</summary>
    internal IEnumerable<Operation> LiveOperations()
    {
        for (int i = 0; i < _slots.Length; i++) if (_slots[i] is { } op) yield return op;
    }

    // ------------------------------------------------------------------ settlement

    /// <summary>
    /// Settles <paramref name="op"/> from a kernel result (negative = -errno) and runs its callback. Called by the
    /// backends from the loop's dispatch only.
    /// </summary>
    internal void Settle(Operation op, int res)
    {
        if (!ApplyResult(op, res)) return;
        RunSettledCallback(op);
    }

    /// <summary>Records the outcome and releases slot and pin; false if the operation had already settled.</summary>
    internal bool ApplyResult(Operation op, int res)
    {
        if (op.State != OperationState.Pending) return false;
        if (op.ChainNext is not null || op.ChainPrevious is not null) Unchain(op);
        if (res >= 0) { op.State = OperationState.Completed; op.Result = res; }
        else if (res == -Errno.ETIME && op.Kind == OperationKind.Timeout) { op.State = OperationState.Completed; op.Result = 0; }
        // Cancelled by its linked timeout, not by a Cancel (which would have set CancelRequested first): -ECANCELED, or
        // -EINTR from an io-wq worker the timeout interrupted.
        else if (op.LinkTimeoutNs >= 0 && !op.CancelRequested && res is -Errno.ECANCELED or -Errno.EINTR) op.State = OperationState.TimedOut;
        else if (res == -Errno.ECANCELED || (op.CancelRequested && res == -Errno.EINTR)) op.State = OperationState.Cancelled;
        else { op.State = OperationState.Failed; op.Error = OperationError.For(-res); }
        ReleaseSlot(op);
        return true;
    }

    /// <summary>Runs the settlement callback of an operation whose result was applied.</summary>
    internal void RunSettledCallback(Operation op)
    {
        op.CallbackPending = false;
        if (op.Callback is { } cb)
        {
            Loop.CallbacksRunIncrement();
            try { cb(op); } catch (Exception ex) { ReportOrCollect(ex); }
        }
    }

    /// <summary>Delivers one multishot accept item; the fd is closed if nobody can take it.</summary>
    internal void DeliverAccepted(Operation op, int fd)
    {
        // During disposal nobody can use a new connection (its loop is going away): close it rather than hand it out.
        if (op.State != OperationState.Pending || op.ItemCallback is null || _disposing) { Libc.Close(fd); return; }
        Loop.CallbacksRunIncrement();
        try { op.ItemCallback(op, fd); } catch (Exception ex) { ReportOrCollect(ex); }
    }

    /// <summary>Delivers one multishot receive chunk. <paramref name="precedesFinal"/>: the chunk is known to come before
    /// the operation's final completion even though the operation already settled (the fake settles a cancel at once,
    /// while in the kernel's order the chunks posted before the cancel still come first).</summary>
    internal void DeliverReceived(Operation op, ReadOnlySpan<byte> data, bool precedesFinal = false)
    {
        if ((op.State != OperationState.Pending && !precedesFinal) || op.ReceiveItemCallback is null) return;
        Loop.CallbacksRunIncrement();
        try { op.ReceiveItemCallback(op, data); }
        catch (Exception ex) { ReportOrCollect(ex); }
    }

    /// <summary>
    /// A callback threw. While the loop runs this is an ordinary callback error; during disposal the loop's error list
    /// is being dropped, so with no handler the exception is kept and rethrown by <see cref="Loop.Dispose"/>.
    /// </summary>
    internal void ReportOrCollect(Exception ex)
    {
        if (!_disposing) { Loop.ReportException(ex); return; }
        if (Loop.UnhandledException is { } h)
        {
            try { h(Loop, ex); return; } catch (Exception hex) { ex = hex; }
        }
        (_disposeErrors ??= new()).Add(ex);
    }

    internal bool CancelOperation(Operation op)
    {
        // During disposal every operation is being cancelled anyway; a callback run by the drain that cancels a
        // sibling gets false instead of an exception.
        if (_disposing || Loop.IsDisposed) return false;
        Loop.CheckThread(nameof(Operation) + ".Cancel");
        if (op.State != OperationState.Pending || op.CancelRequested || op.Slot < 0) return false;
        if (op.IsWaitingForChain) return CancelChainAt(op);
        op.CancelRequested = true;
        try
        {
            Backend.Cancel(op);
        }
        catch
        {
            op.CancelRequested = false;     // nothing was queued: a later Cancel must be able to try again
            throw;
        }
        return true;
    }

    /// <summary>A fake backend's timeout timer fired: the operation expires successfully.</summary>
    internal void FakeTimeoutFired(Operation op)
    {
        if (op.State != OperationState.Pending || Backend is not FakeProactorBackend fake) return;
        fake.ResolveNow(op, -Errno.ETIME);
    }

    public override StreamChannel CreateStreamChannel(int fd, IStreamChannelHandler handler, bool isSocket, int receiveBufferSize)
        => new ProactorStreamChannel(Proactor, fd, isSocket, receiveBufferSize, handler);

    // exclusiveWakeup needs nothing here: io_uring arms an ACCEPT's internal poll with EPOLLEXCLUSIVE itself
    // (IORING_OP_ACCEPT has poll_exclusive set; io_arm_poll_handler adds EPOLLEXCLUSIVE), so one connection wakes one ring.
    public override AcceptChannel CreateAcceptChannel(int fd, IAcceptChannelHandler handler, int maxPerWake, bool exclusiveWakeup)
        => new ProactorAcceptChannel(this, fd, maxPerWake, handler);

    // ------------------------------------------------------------------ submission flushing and disposal

    public override void FlushSubmissions(string call)
    {
        // Also once disposal is requested but has not reached the backend: the fd is about to be closed all the same.
        if (!_disposing) Backend.FlushSubmissions(call);
    }

    /// <summary>
    /// Loop disposal: cancels every operation still in flight and waits for each one's own completion (the backend's
    /// drain), so the kernel never writes into a buffer that was unpinned. Those operations settle, normally as
    /// Cancelled, and their callbacks run now.
    /// </summary>
    public override void Dispose()
    {
        _disposing = true;
        Backend.DrainForDispose();
    }

    public override Exception? TakeDisposeErrors()
    {
        var errors = _disposeErrors;
        _disposeErrors = null;
        if (errors is null) return null;
        if (errors.Count == 1) return errors[0];
        return new AggregateException("Operation callbacks threw while the loop was disposed.", errors);
    }
}
