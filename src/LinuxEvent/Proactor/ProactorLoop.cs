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
/// (normally as Cancelled) and their callbacks run during <see cref="Loop.Dispose"/>. Disposed from another thread
/// after <see cref="Loop.Run()"/> returned, the ring cannot be entered: everything is still released once the thread
/// that ran the loop has exited; while it lives, pins and provided buffers are leaked on purpose (see
/// <see cref="Loop.Dispose"/>).</para>
/// </remarks>
public sealed partial class ProactorLoop : Loop
{
    private readonly ProactorIoDriver _driver;
    private readonly ProactorBackendBase _backend;

    internal ProactorLoop(ProactorOptions options) : base(LoopModel.Proactor)
    {
        if (options.QueueDepth is < 1 or > 32768)
            throw new ArgumentOutOfRangeException(nameof(options), options.QueueDepth, "ProactorOptions.QueueDepth must be in 1..32768.");
        if (options.CompletionQueueDepth < 0 || options.CompletionQueueDepth > 65536)
            throw new ArgumentOutOfRangeException(nameof(options), options.CompletionQueueDepth, "ProactorOptions.CompletionQueueDepth must be in 0..65536.");
        if (options.StreamBufferCount is < 1 or > 32768 || (options.StreamBufferCount & (options.StreamBufferCount - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.StreamBufferCount, "ProactorOptions.StreamBufferCount must be a power of two in 1..32768.");
        if (options.StreamBufferSize is < 1 or > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(options), options.StreamBufferSize, "ProactorOptions.StreamBufferSize must be in 1..1048576.");
        if (options.StreamReceive is < StreamReceiveMode.Auto or > StreamReceiveMode.PerStreamBuffer)
            throw new ArgumentOutOfRangeException(nameof(options), options.StreamReceive, "Unknown StreamReceiveMode.");
        if (options.RegisteredFileSlots is < 0 or > 32768)
            throw new ArgumentOutOfRangeException(nameof(options), options.RegisteredFileSlots, "ProactorOptions.RegisteredFileSlots must be in 0..32768.");
        if (options.ZeroCopySendThreshold < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.ZeroCopySendThreshold, "ProactorOptions.ZeroCopySendThreshold must be 0 (off) or a positive byte count.");
        if (options.SubmissionQueuePollIdle < TimeSpan.Zero || options.SubmissionQueuePollIdle > TimeSpan.FromSeconds(10))
            throw new ArgumentOutOfRangeException(nameof(options), options.SubmissionQueuePollIdle, "ProactorOptions.SubmissionQueuePollIdle must be in 0..10 s.");
        _driver = new ProactorIoDriver(this);
        _backend = options.Backend switch
        {
            ProactorBackend.Uring => new UringProactorBackend(this, _driver, options),
            ProactorBackend.Fake => new FakeProactorBackend(this, _driver, options.FakeClock),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "Unknown ProactorBackend."),
        };
        if (options.StreamReceive == StreamReceiveMode.SharedBufferRing && !_backend.SupportsSharedReceiveRing)
        {
            string caps = _backend.Capabilities?.ToString() ?? _backend.Name;
            _backend.Dispose();
            throw new LinuxEventUnsupportedException(Errno.EINVAL, "Loop.CreateProactor",
                $"StreamReceiveMode.SharedBufferRing needs io_uring multishot recv with provided-buffer rings (Linux 6.0); this kernel lacks them ({caps}). Use StreamReceiveMode.Auto to fall back to one receive per stream.");
        }
        _driver.Backend = _backend;
        _driver.StreamRing = new StreamReceiveRing(_backend, options.StreamReceive, options.StreamBufferCount, options.StreamBufferSize);
        Fake = (_backend as FakeProactorBackend)?.Control;
        Attach(_backend, _driver);
    }

    /// <summary>The I/O driver (slots, submission, settlement).</summary>
    internal ProactorIoDriver ProactorDriver => _driver;

    /// <summary>Controls of the Fake backend (script completions, advance virtual time); null for io_uring.</summary>
    public FakeCompletions? Fake { get; }

    /// <summary>What the kernel's io_uring supports (null under the Fake backend).</summary>
    public ProactorCapabilities? Capabilities => _backend.Capabilities;

    /// <summary>Operations submitted and not yet settled.</summary>
    public int LiveOperationCount => _driver.LiveCount;

    /// <summary>Operations whose memory is pinned for the kernel (tests: a disposed loop must have none).</summary>
    internal int PinnedOperationCount => _driver.PinnedCount;

    /// <summary>True when disposal had to abandon the kernel's ring, leaking what it may still touch (tests).</summary>
    internal bool AbandonedAtDispose => _backend.AbandonedAtDispose;

    // ------------------------------------------------------------------ operations

    /// <summary>Reads into <paramref name="buffer"/> at <paramref name="offset"/> (-1: the fd's current position). Result: bytes read, 0 at EOF.</summary>
    public Operation Read(int fd, Memory<byte> buffer, long offset, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Read));
        ValidateOffset(offset, nameof(Read));
        var op = new Operation(this, OperationKind.Read, onComplete) { Fd = fd, Buffer = buffer, Offset = offset, Length = buffer.Length };
        _driver.Submit(op);
        return op;
    }

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/> (-1: current position). Result: bytes written (may be short).</summary>
    public Operation Write(int fd, ReadOnlyMemory<byte> buffer, long offset, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Write));
        ValidateOffset(offset, nameof(Write));
        var op = new Operation(this, OperationKind.Write, onComplete) { Fd = fd, ConstBuffer = buffer, Offset = offset, Length = buffer.Length };
        _driver.Submit(op);
        return op;
    }

    /// <summary>Receives into <paramref name="buffer"/>. Result: bytes received, 0 when the peer shut down its side.</summary>
    public Operation Receive(int socket, Memory<byte> buffer, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Receive));
        var op = new Operation(this, OperationKind.Receive, onComplete) { Fd = socket, Buffer = buffer, Length = buffer.Length };
        _driver.Submit(op);
        return op;
    }

    /// <summary>Sends <paramref name="buffer"/> (MSG_NOSIGNAL). Result: bytes sent (may be short).</summary>
    public Operation Send(int socket, ReadOnlyMemory<byte> buffer, Action<Operation>? onComplete = null)
    {
        ValidateFd(socket, nameof(Send));
        var op = new Operation(this, OperationKind.Send, onComplete) { Fd = socket, ConstBuffer = buffer, Length = buffer.Length };
        _driver.Submit(op);
        return op;
    }

    /// <summary>Accepts one connection. Result: the new fd (SOCK_NONBLOCK | SOCK_CLOEXEC), owned by the caller.</summary>
    public Operation Accept(int listeningSocket, Action<Operation>? onComplete = null)
    {
        ValidateFd(listeningSocket, nameof(Accept));
        var op = new Operation(this, OperationKind.Accept, onComplete) { Fd = listeningSocket };
        _driver.Submit(op);
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
        _driver.Submit(op);
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
        _driver.Submit(op);
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
        _driver.Submit(op);
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
        _driver.Submit(op);
        return op;
    }

    /// <summary>Closes <paramref name="fd"/>. Operations already in flight on it are not cancelled (see the class remarks).</summary>
    public Operation Close(int fd, Action<Operation>? onComplete = null)
    {
        ValidateFd(fd, nameof(Close));
        var op = new Operation(this, OperationKind.Close, onComplete) { Fd = fd };
        _driver.Submit(op);
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
        // A splice names two fds: one whose output end is the closed fd is cancelled too.
        foreach (var o in _driver.LiveOperations().ToArray())
            if ((o.Fd == fd || (o.Kind == OperationKind.Splice && o.Fd2 == fd)) && o.State == OperationState.Pending && o.Kind != OperationKind.Close) o.Cancel();
        return Close(fd, onComplete);
    }

    /// <summary>Moves up to <paramref name="length"/> bytes from <paramref name="fdIn"/> to <paramref name="fdOut"/> (one must be a pipe). Result: bytes moved, 0 at EOF.</summary>
    public Operation Splice(int fdIn, int fdOut, int length, Action<Operation>? onComplete = null)
    {
        ValidateFd(fdIn, nameof(Splice));
        if (fdOut < 0) throw new ArgumentOutOfRangeException(nameof(fdOut), fdOut, "ProactorLoop.Splice: the fd must not be negative.");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var op = new Operation(this, OperationKind.Splice, onComplete) { Fd = fdIn, Fd2 = fdOut, Length = length };
        _driver.Submit(op);
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
        _driver.Submit(op);
        return op;
    }

    /// <summary>A no-op round trip through the kernel's completion path (IORING_OP_NOP). Result 0.</summary>
    public Operation Nop(Action<Operation>? onComplete = null)
    {
        var op = new Operation(this, OperationKind.Nop, onComplete);
        _driver.Submit(op);
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

    /// <summary>
    /// Submits <paramref name="operation"/>, a send that is settled or was never submitted, on <paramref name="socket"/>
    /// with <paramref name="buffer"/>: the stream channels keep a pool of send operations per loop and take one only
    /// while they have bytes to send. Allocation-free.
    /// </summary>
    internal void SubmitSend(Operation operation, int socket, ReadOnlyMemory<byte> buffer)
    {
        if (operation.Kind != OperationKind.Send || !ReferenceEquals(operation.Loop, this)) throw new InvalidOperationException("ProactorLoop.SubmitSend: not a send of this loop.");
        if (operation.Slot >= 0 || operation.CallbackPending) throw new InvalidOperationException("ProactorLoop.SubmitSend: the send is still in flight.");
        ValidateFd(socket, nameof(Send));
        operation.Fd = socket;
        operation.ConstBuffer = buffer;
        operation.Length = buffer.Length;
        operation.State = OperationState.Pending;
        operation.Result = 0;
        operation.Error = null;
        operation.CancelRequested = false;
        _driver.Submit(operation);
    }

    /// <summary>
    /// Arms a settled multishot receive again, reusing the operation (and its slot bookkeeping), so a stream channel that
    /// pauses and resumes allocates nothing. Same checks as <see cref="Resubmit(Operation)"/>.
    /// </summary>
    internal void ResubmitReceiveMultishot(Operation operation)
    {
        if (operation.Kind != OperationKind.ReceiveMultishot) throw new InvalidOperationException("ProactorLoop.ResubmitReceiveMultishot: not a multishot receive.");
        if (operation.BufferPool!.IsDisposed) throw new ObjectDisposedException(nameof(ProvidedBufferPool));
        var saved = PrepareResubmit(operation, allowMultishot: true);
        SubmitOrRestore(operation, saved);
    }

    private (OperationState State, int Result, OperationError? Error, Memory<byte> Buffer, ReadOnlyMemory<byte> ConstBuffer, int Length) PrepareResubmit(Operation op, bool allowMultishot = false)
    {
        if (!ReferenceEquals(op.Loop, this)) throw new InvalidOperationException("ProactorLoop.Resubmit: the operation belongs to another loop.");
        if (op.State == OperationState.Pending) throw new InvalidOperationException($"ProactorLoop.Resubmit: the {op.Kind} operation is still pending.");
        if (op.CallbackPending) throw new InvalidOperationException($"ProactorLoop.Resubmit: the {op.Kind} operation's settlement callback has not run yet.");
        if (!allowMultishot && op.Kind is OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot)
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
            _driver.Submit(op);
        }
        catch
        {
            (op.State, op.Result, op.Error, op.Buffer, op.ConstBuffer, op.Length) = saved;
            throw;
        }
    }

    private static void ValidateFd(int fd, string call)
    {
        if (fd < 0) ThrowHelper.NegativeFd("ProactorLoop." + call, fd);
    }

    private static void ValidateOffset(long offset, string call)
    {
        if (offset < -1) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"ProactorLoop.{call}: the offset must be -1 (current position) or non-negative.");
    }

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
        return _backend.CreateBufferPool(count, size);
    }
}
