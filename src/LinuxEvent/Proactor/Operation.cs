using System.Buffers;
using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>What an <see cref="Operation"/> does.</summary>
public enum OperationKind
{
    /// <summary>read(2)/pread(2) on an fd.</summary>
    Read,
    /// <summary>write(2)/pwrite(2) on an fd.</summary>
    Write,
    /// <summary>recv(2) on a socket.</summary>
    Receive,
    /// <summary>send(2) on a socket (MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE).</summary>
    Send,
    /// <summary>accept4(2); the result is the new fd (non-blocking, close-on-exec), owned by the caller.</summary>
    Accept,
    /// <summary>connect(2).</summary>
    Connect,
    /// <summary>shutdown(2).</summary>
    Shutdown,
    /// <summary>close(2).</summary>
    Close,
    /// <summary>splice(2) between a pipe and another fd.</summary>
    Splice,
    /// <summary>A timeout; expiry completes successfully with result 0.</summary>
    Timeout,
    /// <summary>A no-op round trip through the loop (IORING_OP_NOP).</summary>
    Nop,
    /// <summary>Multishot accept: one item per connection, then one final settlement.</summary>
    AcceptMultishot,
    /// <summary>Multishot receive into a provided-buffer ring: one item per chunk, then one final settlement.</summary>
    ReceiveMultishot,
}

/// <summary>Where an <see cref="Operation"/> is in its life. It settles exactly once.</summary>
public enum OperationState
{
    /// <summary>Submitted, not settled.</summary>
    Pending,
    /// <summary>Settled with success; see <see cref="Operation.Result"/>.</summary>
    Completed,
    /// <summary>Settled with an error; see <see cref="Operation.Error"/>.</summary>
    Failed,
    /// <summary>Settled by cancellation (or the loop's disposal) before the kernel completed it.</summary>
    Cancelled,
}

/// <summary>An operation's failure: the errno, its name and the C library's message.</summary>
public sealed class OperationError
{
    internal OperationError(int errno)
    {
        Errno = errno;
        Name = Native.Errno.Name(errno);
        Message = Native.Errno.Message(errno);
    }

    /// <summary>The positive errno (e.g. 104).</summary>
    public int Errno { get; }
    /// <summary>The symbolic name (e.g. <c>ECONNRESET</c>).</summary>
    public string Name { get; }
    /// <summary>strerror text (e.g. "Connection reset by peer").</summary>
    public string Message { get; }

    /// <summary>An exception for this error, naming the operation.</summary>
    public LinuxEventException ToException(string call) => new(Errno, call);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Errno}): {Message}";

    private static readonly OperationError?[] s_cache = new OperationError?[256];

    /// <summary>Errors are immutable and few: cache one per errno so a failing op allocates nothing.</summary>
    internal static OperationError For(int errno)
    {
        if ((uint)errno >= (uint)s_cache.Length) return new OperationError(errno);
        return s_cache[errno] ??= new OperationError(errno);
    }
}

/// <summary>
/// One submitted kernel operation of a <see cref="ProactorLoop"/>. Settles exactly once — Completed, Failed or
/// Cancelled — and its callback runs once, from the loop's dispatch (never inline from the submitting call).
/// </summary>
/// <remarks>
/// <para><b>Buffers</b> are pinned from submission until the operation's own completion arrives (not the cancel's):
/// the kernel may write into them until then. Do not reuse a buffer while its operation is pending. Pinning an
/// ordinary array takes a GC handle per submission; on hot paths allocate buffers on the pinned heap
/// (<c>GC.AllocateArray&lt;byte&gt;(n, pinned: true)</c>) and wrap them with
/// <c>MemoryMarshal.CreateFromPinnedArray</c>, whose Memory needs no handle.</para>
/// <para><b>Cancel</b> returns false if the operation already settled. Otherwise it asks the kernel to cancel; the
/// operation settles as Cancelled unless the kernel had already completed it, in which case it settles with the
/// real result so no data is lost (a receive that got bytes reports them). Either way the callback runs once.</para>
/// <para><b>Reuse.</b> The owner may resubmit a settled operation with <see cref="ProactorLoop.Resubmit(Operation)"/>
/// (same arguments) or with a new buffer; this allocates nothing, which is how steady-state loops stay at 0 B/op.</para>
/// </remarks>
public sealed class Operation
{
    internal readonly ProactorLoop Loop;
    internal Action<Operation>? Callback;
    internal Action<Operation, int>? ItemCallback;           // multishot accept: per connection
    internal ReceiveHandler? ReceiveItemCallback;             // multishot receive: per chunk
    internal int Slot = -1;
    internal uint Generation;
    internal bool CancelRequested;
    internal bool CallbackPending;                            // fake backend: settled, callback queued but not run

    // Arguments (kept for Resubmit and for the backends).
    internal int Fd = -1, Fd2 = -1, Length;
    internal long Offset = -1;
    internal Memory<byte> Buffer;
    internal ReadOnlyMemory<byte> ConstBuffer;
    internal MemoryHandle Pin;
    internal bool Pinned;
    internal long TimeoutNs;
    internal byte[]? SockAddr;                               // pinned (POH) storage for connect
    internal int SockAddrLength;
    internal ProvidedBufferPool? BufferPool;
    internal object? BackendState;                           // uring: timespec block; fake: timer

    internal Operation(ProactorLoop loop, OperationKind kind, Action<Operation>? callback)
    {
        Loop = loop;
        Kind = kind;
        Callback = callback;
    }

    /// <summary>What this operation does.</summary>
    public OperationKind Kind { get; internal set; }

    /// <summary>Pending until it settles; then Completed, Failed or Cancelled, exactly once per submission.</summary>
    public OperationState State { get; internal set; }

    /// <summary>On success: bytes transferred, the accepted fd, or 0. Zero bytes on a read/receive means EOF.</summary>
    public int Result { get; internal set; }

    /// <summary>The failure when <see cref="State"/> is <see cref="OperationState.Failed"/>; null otherwise.</summary>
    public OperationError? Error { get; internal set; }

    /// <summary>The fd the operation targets (the input fd of a splice).</summary>
    public int FileDescriptor => Fd;

    /// <summary>Free slot for the owner (e.g. the connection), so callbacks need no closure.</summary>
    public object? Data { get; set; }

    /// <summary>True once settled.</summary>
    public bool IsSettled => State != OperationState.Pending;

    /// <summary>
    /// Requests cancellation. Returns false if already settled (or already being cancelled); true if the request was
    /// made. See the type remarks for what the final state can be. Loop thread only.
    /// </summary>
    public bool Cancel() => Loop.CancelOperation(this);

    /// <summary>Throws a <see cref="LinuxEventException"/> if Failed, <see cref="OperationCanceledException"/> if Cancelled.</summary>
    public int GetResultOrThrow()
    {
        return State switch
        {
            OperationState.Completed => Result,
            OperationState.Failed => throw Error!.ToException(Kind.ToString()),
            OperationState.Cancelled => throw new OperationCanceledException($"The {Kind} operation was cancelled."),
            _ => throw new InvalidOperationException($"The {Kind} operation has not settled yet."),
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind}(fd={Fd}) {State}{(State == OperationState.Failed ? " " + Error : State == OperationState.Completed ? " " + Result : "")}";
}

/// <summary>Receives one chunk of a multishot receive. The span is valid only during the call; the buffer returns to the pool afterwards.</summary>
public delegate void ReceiveHandler(Operation operation, ReadOnlySpan<byte> data);
