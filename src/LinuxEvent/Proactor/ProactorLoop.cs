using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;
using LinuxEvent.Proactor;

namespace LinuxEvent;

/// <summary>
/// A completion (io_uring) loop: operations are submitted to the kernel and their results are delivered to callbacks.
/// Create with <see cref="Loop.CreateProactor(ProactorOptions?)"/>.
/// </summary>
/// <remarks>
/// <para>Submissions are queued and handed to the kernel once per iteration together with the wait
/// (one io_uring_enter), so a batch of submissions costs one syscall.</para>
/// <para><b>Closing an fd with operations in flight</b> (via <see cref="Close"/> or close(2)): io_uring holds its own
/// reference to the file for the duration of an operation, so closing the descriptor number does not stop it.
/// Cancel first (or use <see cref="CloseAfterCancel"/>). Operations that were in flight settle as Cancelled, or with
/// the kernel's errno, or complete normally if data arrives; they never hang the loop's disposal and never touch
/// a new file that reuses the fd number, because the kernel resolved the file at submission.</para>
/// <para><b>Thread binding.</b> The io_uring ring is created with IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the
/// kernel has them: only one thread may ever enter it. The ring binds to the first thread that needs the kernel (the
/// first iteration, <see cref="CreateBufferPool"/>, or a submission that finds the queue full); driving the loop from
/// another thread afterwards throws <see cref="InvalidOperationException"/> naming both threads. Create the loop
/// anywhere, but run it, create pools and submit in bulk from the thread that will run it.</para>
/// <para><b>Disposal</b> cancels every operation still in flight and waits for each one's own completion before
/// releasing the ring, so the kernel never writes into a buffer that was unpinned. Those operations settle
/// (normally as Cancelled) and their callbacks run during <see cref="Loop.Dispose"/>.</para>
/// </remarks>
public sealed partial class ProactorLoop : Loop
{
    internal readonly ProactorBackendBase Backend;
    private Operation?[] _slots = new Operation?[256];
    private uint[] _slotGenerations = new uint[256];
    private int[] _freeSlots = new int[256];
    private int _freeCount;
    private int _live;
    private bool _disposing;
    private List<Exception>? _disposeErrors;

    internal ProactorLoop(ProactorOptions options) : base(LoopModel.Proactor)
    {
        if (options.QueueDepth is < 1 or > 32768)
            throw new ArgumentOutOfRangeException(nameof(options), options.QueueDepth, "ProactorOptions.QueueDepth must be in 1..32768.");
        if (options.CompletionQueueDepth < 0 || options.CompletionQueueDepth > 65536)
            throw new ArgumentOutOfRangeException(nameof(options), options.CompletionQueueDepth, "ProactorOptions.CompletionQueueDepth must be in 0..65536.");
        for (int i = 0; i < _freeSlots.Length; i++) _freeSlots[i] = _freeSlots.Length - 1 - i;
        _freeCount = _freeSlots.Length;
        Backend = options.Backend switch
        {
            ProactorBackend.Uring => new UringProactorBackend(this, options),
            ProactorBackend.Fake => new FakeProactorBackend(this),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "Unknown ProactorBackend."),
        };
        Fake = (Backend as FakeProactorBackend)?.Control;
        UpdateNow();
    }

    /// <inheritdoc />
    public override string BackendName => Backend.Name;

    /// <summary>Controls of the Fake backend (script completions, advance virtual time); null for io_uring.</summary>
    public FakeCompletions? Fake { get; }

    /// <summary>What the kernel's io_uring supports (null under the Fake backend).</summary>
    public ProactorCapabilities? Capabilities => Backend.Capabilities;

    /// <summary>Operations submitted and not yet settled.</summary>
    public int LiveOperationCount => _live;

    private protected override long ReadClock() => Backend.IsVirtualClock ? Backend.VirtualNow : base.ReadClock();

    private protected override bool HasImmediateWork => base.HasImmediateWork || Backend.HasQueuedCompletions;

    // ------------------------------------------------------------------ operations

    /// <summary>Reads into <paramref name="buffer"/> at <paramref name="offset"/> (-1: the fd's current position). Result: bytes read, 0 at EOF.</summary>
    public Operation Read(int fd, Memory<byte> buffer, long offset, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Read));
        ValidateOffset(offset, nameof(Read));
        var op = new Operation(this, OperationKind.Read, onComplete) { Fd = fd, Buffer = buffer, Offset = offset, Length = buffer.Length };
        Submit(op);
        return op;
    }

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/> (-1: current position). Result: bytes written (may be short).</summary>
    public Operation Write(int fd, ReadOnlyMemory<byte> buffer, long offset, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Write));
        ValidateOffset(offset, nameof(Write));
        var op = new Operation(this, OperationKind.Write, onComplete) { Fd = fd, ConstBuffer = buffer, Offset = offset, Length = buffer.Length };
        Submit(op);
        return op;
    }

    /// <summary>Receives into <paramref name="buffer"/>. Result: bytes received, 0 when the peer shut down its side.</summary>
    public Operation Receive(int socket, Memory<byte> buffer, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Receive));
        var op = new Operation(this, OperationKind.Receive, onComplete) { Fd = socket, Buffer = buffer, Length = buffer.Length };
        Submit(op);
        return op;
    }

    /// <summary>Sends <paramref name="buffer"/> (MSG_NOSIGNAL). Result: bytes sent (may be short).</summary>
    public Operation Send(int socket, ReadOnlyMemory<byte> buffer, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Send));
        var op = new Operation(this, OperationKind.Send, onComplete) { Fd = socket, ConstBuffer = buffer, Length = buffer.Length };
        Submit(op);
        return op;
    }

    /// <summary>Accepts one connection. Result: the new fd (SOCK_NONBLOCK | SOCK_CLOEXEC), owned by the caller.</summary>
    public Operation Accept(int listeningSocket, Action<Operation>? onComplete = null)
    {
        ValidateFd(listeningSocket, nameof(Accept));
        var op = new Operation(this, OperationKind.Accept, onComplete) { Fd = listeningSocket };
        Submit(op);
        return op;
    }

    /// <summary>
    /// Multishot accept: <paramref name="onAccepted"/> runs once per connection with the new fd (owned by the callee);
    /// the operation stays Pending until the kernel ends the stream (a completion without IORING_CQE_F_MORE, an error,
    /// or <see cref="Operation.Cancel"/>), and then <paramref name="onEnd"/> runs exactly once.
    /// </summary>
    public Operation AcceptMultishot(int listeningSocket, Action<Operation, int> onAccepted, Action<Operation>? onEnd = null)
    {
        ValidateFd(listeningSocket, nameof(AcceptMultishot));
        ArgumentNullException.ThrowIfNull(onAccepted);
        var op = new Operation(this, OperationKind.AcceptMultishot, onEnd) { Fd = listeningSocket, ItemCallback = onAccepted };
        Submit(op);
        return op;
    }

    /// <summary>
    /// Multishot receive: the kernel picks a buffer from <paramref name="pool"/> for each chunk and
    /// <paramref name="onData"/> sees it (the span is valid during the call; the buffer goes back to the pool right
    /// after). When the pool runs dry the kernel ends the stream with ENOBUFS; the loop re-arms it once buffers are back,
    /// so that is invisible to the caller. EOF, errors and cancellation end the stream: <paramref name="onEnd"/> runs once
    /// (EOF = Completed with result 0).
    /// </summary>
    public Operation ReceiveMultishot(int socket, ProvidedBufferPool pool, ReceiveHandler onData, Action<Operation>? onEnd = null)
    {
        ValidateFd(socket, nameof(ReceiveMultishot));
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(onData);
        if (!ReferenceEquals(pool.Loop, this)) throw new ArgumentException("ProactorLoop.ReceiveMultishot: the buffer pool belongs to another loop.", nameof(pool));
        if (pool.IsDisposed) throw new ObjectDisposedException(nameof(ProvidedBufferPool));
        var op = new Operation(this, OperationKind.ReceiveMultishot, onEnd) { Fd = socket, BufferPool = pool, ReceiveItemCallback = onData };
        Submit(op);
        return op;
    }

    /// <summary>Connects <paramref name="socket"/> to <paramref name="remote"/> (IPv4, IPv6 or Unix-domain). Result 0.</summary>
    public Operation Connect(int socket, EndPoint remote, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Connect));
        ArgumentNullException.ThrowIfNull(remote);
        var op = new Operation(this, OperationKind.Connect, onComplete) { Fd = socket };
        op.SockAddr = GC.AllocateArray<byte>(SockAddr.MaxSize, pinned: true);
        op.SockAddrLength = SockAddr.Write(remote, op.SockAddr);
        Submit(op);
        return op;
    }

    /// <summary>Shuts down one or both directions of <paramref name="socket"/>. Result 0.</summary>
    public Operation Shutdown(int socket, SocketShutdown how, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Shutdown));
        int h = how switch
        {
            SocketShutdown.Receive => Libc.SHUT_RD,
            SocketShutdown.Send => Libc.SHUT_WR,
            SocketShutdown.Both => Libc.SHUT_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "ProactorLoop.Shutdown: unknown SocketShutdown."),
        };
        var op = new Operation(this, OperationKind.Shutdown, onComplete) { Fd = socket, Length = h };
        Submit(op);
        return op;
    }

    /// <summary>Closes <paramref name="fd"/>. Operations already in flight on it are not cancelled (see the class remarks).</summary>
    public Operation Close(int fd, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Close));
        var op = new Operation(this, OperationKind.Close, onComplete) { Fd = fd };
        Submit(op);
        return op;
    }

    /// <summary>
    /// Requests cancellation of every pending operation of this loop on <paramref name="fd"/>, then submits the close.
    /// The returned operation is the close. io_uring keeps its own reference to the file for each operation, so the
    /// close may complete before the cancelled operations settle: their buffers stay pinned, and may still be written,
    /// until their own callbacks run.
    /// </summary>
    public Operation CloseAfterCancel(int fd, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(CloseAfterCancel));
        CheckThread(nameof(CloseAfterCancel));
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i] is { } o && o.Fd == fd && o.State == OperationState.Pending && o.Kind != OperationKind.Close) o.Cancel();
        return Close(fd, onComplete);
    }

    /// <summary>Moves up to <paramref name="length"/> bytes from <paramref name="fdIn"/> to <paramref name="fdOut"/> (one must be a pipe). Result: bytes moved, 0 at EOF.</summary>
    public Operation Splice(int fdIn, int fdOut, int length, Action<Operation>? onComplete = null)
    {
        ValidateFd(fdIn, nameof(Splice));
        if (fdOut < 0) throw new ArgumentOutOfRangeException(nameof(fdOut), fdOut, "ProactorLoop.Splice: the fd must not be negative.");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var op = new Operation(this, OperationKind.Splice, onComplete) { Fd = fdIn, Fd2 = fdOut, Length = length };
        Submit(op);
        return op;
    }

    /// <summary>
    /// Completes after <paramref name="delay"/>. Expiry is success (result 0; the kernel's -ETIME is not an error);
    /// cancelling gives Cancelled. Timeouts with equal deadlines complete in submission order.
    /// </summary>
    public Operation Timeout(TimeSpan delay, Action<Operation>? onComplete = null)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "ProactorLoop.Timeout: the delay must not be negative.");
        var op = new Operation(this, OperationKind.Timeout, onComplete) { TimeoutNs = TicksToNs(delay.Ticks) };
        Submit(op);
        return op;
    }

    /// <summary>A no-op round trip through the kernel's completion path (IORING_OP_NOP). Result 0.</summary>
    public Operation Nop(Action<Operation>? onComplete = null)
    {
        var op = new Operation(this, OperationKind.Nop, onComplete);
        Submit(op);
        return op;
    }

    /// <summary>
    /// Submits a settled operation again with the same arguments. Allocation-free. The operation returns to Pending:
    /// <see cref="Operation.Result"/>, <see cref="Operation.Error"/> and <see cref="Operation.State"/> are reset, so read
    /// them before resubmitting.
    /// </summary>
    /// <exception cref="InvalidOperationException">It is still pending, or belongs to another loop, or is multishot.</exception>
    public void Resubmit(Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var saved = PrepareResubmit(operation);
        SubmitOrRestore(operation, saved);
    }

    /// <summary>
    /// Submits a settled read/receive/write/send again with a new buffer (same fd; a read or write keeps its offset).
    /// Allocation-free. (A <see cref="Memory{T}"/> slice binds to this overload in C#, so it serves writes and sends
    /// too rather than making them fail at run time.)
    /// </summary>
    public void Resubmit(Operation operation, Memory<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Kind is OperationKind.Write or OperationKind.Send)
        {
            Resubmit(operation, (ReadOnlyMemory<byte>)buffer);
            return;
        }
        if (operation.Kind is not (OperationKind.Read or OperationKind.Receive))
            throw new InvalidOperationException($"ProactorLoop.Resubmit: a {operation.Kind} takes no buffer.");
        var saved = PrepareResubmit(operation);
        operation.Buffer = buffer;
        operation.Length = buffer.Length;
        SubmitOrRestore(operation, saved);
    }

    /// <summary>Submits a settled write/send again with a new buffer. Allocation-free.</summary>
    public void Resubmit(Operation operation, ReadOnlyMemory<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Kind is not (OperationKind.Write or OperationKind.Send))
            throw new InvalidOperationException($"ProactorLoop.Resubmit: a {operation.Kind} takes no readable buffer.");
        var saved = PrepareResubmit(operation);
        operation.ConstBuffer = buffer;
        operation.Length = buffer.Length;
        SubmitOrRestore(operation, saved);
    }

    private (OperationState State, int Result, OperationError? Error, Memory<byte> Buffer, ReadOnlyMemory<byte> ConstBuffer, int Length) PrepareResubmit(Operation op)
    {
        if (!ReferenceEquals(op.Loop, this)) throw new InvalidOperationException("ProactorLoop.Resubmit: the operation belongs to another loop.");
        if (op.State == OperationState.Pending) throw new InvalidOperationException($"ProactorLoop.Resubmit: the {op.Kind} operation is still pending.");
        if (op.CallbackPending) throw new InvalidOperationException($"ProactorLoop.Resubmit: the {op.Kind} operation's settlement callback has not run yet.");
        if (op.Kind is OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot)
            throw new InvalidOperationException("ProactorLoop.Resubmit: start a new multishot operation instead.");
        var saved = (op.State, op.Result, op.Error, op.Buffer, op.ConstBuffer, op.Length);
        op.State = OperationState.Pending;
        op.Result = 0;
        op.Error = null;
        op.CancelRequested = false;
        return saved;
    }

    /// <summary>Submits a resubmitted operation; if that throws, the operation is left exactly as it was (settled).</summary>
    private void SubmitOrRestore(Operation op, (OperationState State, int Result, OperationError? Error, Memory<byte> Buffer, ReadOnlyMemory<byte> ConstBuffer, int Length) saved)
    {
        try
        {
            Submit(op);
        }
        catch
        {
            (op.State, op.Result, op.Error, op.Buffer, op.ConstBuffer, op.Length) = saved;
            throw;
        }
    }

    private static void ValidateFd(int fd, string call)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, $"ProactorLoop.{call}: the fd must not be negative.");
    }

    private static void ValidateOffset(long offset, string call)
    {
        if (offset < -1) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"ProactorLoop.{call}: the offset must be -1 (current position) or non-negative.");
    }

    // ------------------------------------------------------------------ slots and settlement

    private void Submit(Operation op)
    {
        // Checked without formatting: Enum.ToString boxes, and this runs for every operation.
        if (IsDisposed || (IsRunning && !IsOnLoopThread)) CheckThread("ProactorLoop." + op.Kind.ToString());
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
        if (_freeCount == 0) GrowSlots();
        int slot = _freeSlots[--_freeCount];
        uint gen = unchecked(_slotGenerations[slot] + 1);
        if (gen == 0) gen = 1;
        _slotGenerations[slot] = gen;
        op.Slot = slot;
        op.Generation = gen;
        _slots[slot] = op;
        if (op.Kind is OperationKind.Read or OperationKind.Receive) { op.Pin = op.Buffer.Pin(); op.Pinned = true; }
        else if (op.Kind is OperationKind.Write or OperationKind.Send) { op.Pin = op.ConstBuffer.Pin(); op.Pinned = true; }
        _live++;
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
        if (op.Pinned) { op.Pin.Dispose(); op.Pinned = false; }
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

    /// <summary>
    /// Settles <paramref name="op"/> from a kernel result (negative = -errno) and runs its callback. Called by the
    /// backends from the loop's dispatch only. -ETIME on a timeout is expiry, i.e. success; -ECANCELED is Cancelled.
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
        if (res >= 0) { op.State = OperationState.Completed; op.Result = res; }
        else if (res == -Errno.ETIME && op.Kind == OperationKind.Timeout) { op.State = OperationState.Completed; op.Result = 0; }
        else if (res == -Errno.ECANCELED || (op.CancelRequested && res == -Errno.EINTR)) op.State = OperationState.Cancelled;
        else { op.State = OperationState.Failed; op.Error = OperationError.For(-res); }
        ReleaseSlot(op);
        return true;
    }

    /// <summary>Runs the settlement callback of an operation whose result was applied.</summary>
    internal void RunSettledCallback(Operation op)
    {
        op.CallbackPending = false;
        if (op.Callback is { } cb) InvokeSettled(cb, op);
    }

    /// <summary>Delivers one multishot accept item; the fd is closed if nobody can take it.</summary>
    internal void DeliverAccepted(Operation op, int fd)
    {
        // During disposal nobody can use a new connection (its loop is going away): close it rather than hand it out.
        if (op.State != OperationState.Pending || op.ItemCallback is null || _disposing) { Libc.Close(fd); return; }
        InvokeSettled(op.ItemCallback, op, fd);
    }

    /// <summary>Delivers one multishot receive chunk.</summary>
    internal void DeliverReceived(Operation op, ReadOnlySpan<byte> data)
    {
        if (op.State != OperationState.Pending || op.ReceiveItemCallback is null) return;
        CallbacksRunIncrement();
        try { op.ReceiveItemCallback(op, data); }
        catch (Exception ex) { ReportOrCollect(ex); }
    }

    private void InvokeSettled(Action<Operation> cb, Operation op)
    {
        CallbacksRunIncrement();
        try { cb(op); } catch (Exception ex) { ReportOrCollect(ex); }
    }

    private void InvokeSettled(Action<Operation, int> cb, Operation op, int value)
    {
        CallbacksRunIncrement();
        try { cb(op, value); } catch (Exception ex) { ReportOrCollect(ex); }
    }

    private void ReportOrCollect(Exception ex)
    {
        if (!_disposing) { ReportException(ex); return; }
        if (UnhandledException is { } h)
        {
            try { h(this, ex); return; } catch (Exception hex) { ex = hex; }
        }
        (_disposeErrors ??= new()).Add(ex);
    }

    internal bool CancelOperation(Operation op)
    {
        // During disposal every operation is being cancelled anyway; a callback run by the drain that cancels a
        // sibling gets false instead of an exception.
        if (_disposing || IsDisposed) return false;
        CheckThread(nameof(Operation) + ".Cancel");
        if (op.State != OperationState.Pending || op.CancelRequested || op.Slot < 0) return false;
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

    /// <summary>Live operations (for disposal and diagnostics).</summary>
    internal IEnumerable<Operation> LiveOperations()
    {
        for (int i = 0; i < _slots.Length; i++) if (_slots[i] is { } op) yield return op;
    }

    internal Operation?[] SlotTable => _slots;

    // ------------------------------------------------------------------ buffer pools

    /// <summary>
    /// Creates a pool of <paramref name="count"/> buffers of <paramref name="size"/> bytes that the kernel picks from
    /// for <see cref="ReceiveMultishot"/> (io_uring provided-buffer ring, IORING_REGISTER_PBUF_RING).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not a power of two in 1..32768, or <paramref name="size"/> not in 1..1 MiB.</exception>
    public ProvidedBufferPool CreateBufferPool(int count, int size)
    {
        if (count < 1 || count > 32768 || (count & (count - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "ProactorLoop.CreateBufferPool: count must be a power of two in 1..32768.");
        if (size < 1 || size > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(size), size, "ProactorLoop.CreateBufferPool: size must be in 1..1048576.");
        CheckThread(nameof(CreateBufferPool));
        return Backend.CreateBufferPool(count, size);
    }

    // ------------------------------------------------------------------ loop hooks

    private protected override void PollBackend(long timeoutNs) => Backend.Wait(timeoutNs);

    private protected override void WakeBackend() => Backend.Wake();

    private protected override InternalWatch WatchInternal(int fd, Action<object?> onReadable, object? state)
        => Backend.WatchReadable(fd, onReadable, state);

    private protected override void DisposeBackend()
    {
        _disposing = true;
        try
        {
            Backend.DrainForDispose();
        }
        finally
        {
            Backend.Dispose();
        }
        var errors = _disposeErrors;
        _disposeErrors = null;
        if (errors is { Count: 1 }) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(errors[0]).Throw();
        if (errors is { Count: > 1 }) throw new AggregateException("Operation callbacks threw while the loop was disposed.", errors);
    }

    internal bool IsDisposing => _disposing;

    /// <summary>A Fake backend timeout's timer fired: the operation expires successfully.</summary>
    internal void FakeTimeoutFired(Operation op)
    {
        if (op.State != OperationState.Pending || Backend is not FakeProactorBackend fake) return;
        fake.ResolveNow(op, -Errno.ETIME);
    }
}
