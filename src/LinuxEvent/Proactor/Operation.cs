using System.Buffers;
using System.Runtime.InteropServices;

namespace LinuxEvent;

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
public sealed partial class Operation
{
    // Fields are shared between kinds where their uses never meet (a connect has no offset, a timeout no buffer...):
    // a stream keeps one receive operation per connection, so every field costs 100,000 × its size on a large server.
    internal readonly ProactorLoop Loop;
    internal Action<Operation>? Callback;
    private Delegate? _itemCallback;                          // multishot: Action<Operation, int> (accept) or ReceiveHandler
    internal int Slot = -1;
    internal uint Generation;
    internal bool CancelRequested;
    internal bool CallbackPending;                            // fake backend: settled, callback queued but not run
    internal bool Pinned;
    private byte _kind, _state;

    // Arguments (kept for Resubmit and for the backends).
    internal int Fd = -1, Length;
    internal long Offset = -1;                                // read/write: file offset; timeout: ns; splice: output fd
    internal ReadOnlyMemory<byte> ConstBuffer;                // the buffer of a read/receive too (see Buffer)
    internal MemoryHandle Pin;
    internal ProvidedBufferPool? BufferPool;
    internal object? BackendState;                            // fake timeout: its timer; connect: the pinned sockaddr
    private object? _request;                                 // sendmsg/recvmsg: MessageBlock; other file ops: FileRequest

    internal Operation(ProactorLoop loop, OperationKind kind, Action<Operation>? callback)
    {
        Loop = loop;
        Kind = kind;
        Callback = callback;
    }

    /// <summary>The buffer a read or receive fills (the same storage as <see cref="ConstBuffer"/>).</summary>
    internal Memory<byte> Buffer
    {
        get => MemoryMarshal.AsMemory(ConstBuffer);
        set => ConstBuffer = value;
    }

    /// <summary>Multishot accept: runs per connection.</summary>
    internal Action<Operation, int>? ItemCallback
    {
        get => _itemCallback as Action<Operation, int>;
        set => _itemCallback = value;
    }

    /// <summary>Multishot receive: runs per chunk.</summary>
    internal ReceiveHandler? ReceiveItemCallback
    {
        get => _itemCallback as ReceiveHandler;
        set => _itemCallback = value;
    }

    /// <summary>Timeout: its delay in nanoseconds (kept in <see cref="Offset"/>, which a timeout does not use).</summary>
    internal long TimeoutNs
    {
        get => Offset;
        set => Offset = value;
    }

    /// <summary>Splice: the output fd (kept in <see cref="Offset"/>, which a splice does not use).</summary>
    internal int Fd2
    {
        get => (int)Offset;
        set => Offset = value;
    }

    /// <summary>sendmsg/recvmsg: the pinned msghdr (owned by the AsyncOp; set per submission, shares storage with
    /// <see cref="File"/>).</summary>
    internal Datagrams.MessageBlock? Message
    {
        get => _request as Datagrams.MessageBlock;
        set => _request = value;
    }

    /// <summary>File operations other than Read/Write: the arguments and pins (owned by the AsyncOp; set per
    /// submission, shares storage with <see cref="Message"/>).</summary>
    internal Files.FileRequest? File
    {
        get => _request as Files.FileRequest;
        set => _request = value;
    }

    /// <summary>Connect: the pinned (POH) sockaddr (kept in <see cref="BackendState"/>).</summary>
    internal byte[]? SockAddr
    {
        get => BackendState as byte[];
        set => BackendState = value;
    }

    /// <summary>Connect: the sockaddr's length (kept in <see cref="Length"/>, which a connect does not use).</summary>
    internal int SockAddrLength
    {
        get => Length;
        set => Length = value;
    }

    /// <summary>What this operation does.</summary>
    public OperationKind Kind
    {
        get => (OperationKind)_kind;
        internal set => _kind = (byte)value;
    }

    /// <summary>Pending until it settles; then Completed, Failed, Cancelled or (given a timeout) TimedOut, exactly once
    /// per submission.</summary>
    public OperationState State
    {
        get => (OperationState)_state;
        internal set => _state = (byte)value;
    }

    /// <summary>On success: bytes transferred, the accepted fd, or 0. Zero bytes on a read/receive means EOF.</summary>
    public int Result { get; internal set; }

    /// <summary>The failure when <see cref="State"/> is <see cref="OperationState.Failed"/>; null otherwise.</summary>
    public OperationError? Error { get; internal set; }

    /// <summary>The fd the operation targets (the input fd of a splice).</summary>
    public int FileDescriptor => Fd;

    /// <summary>The file offset of a read, write (also vectored) or fallocate; -1 for "the fd's position" or none.</summary>
    public long FileOffset => Offset;

    /// <summary>Bytes the operation asked for: a buffer's length, the sum of a vector, a fallocate's length.</summary>
    public long RequestedLength => File is { } f && Kind is not (OperationKind.Read or OperationKind.Write) ? f.Length : Length;

    /// <summary>The path of an <see cref="OperationKind.OpenAt"/>, or of a <see cref="OperationKind.Statx"/> by path.</summary>
    public string? Path => File?.PathText;

    /// <summary>The status a completed <see cref="OperationKind.Statx"/> read.</summary>
    /// <exception cref="InvalidOperationException">Not a completed Statx.</exception>
    public FileStatus FileStatus
        => Kind == OperationKind.Statx && State == OperationState.Completed && File is { } f
            ? LinuxEvent.FileStatus.Read(f.StatxBlock!)
            : throw new InvalidOperationException($"Operation.FileStatus: the operation is a {Kind} ({State}), not a completed Statx.");

    /// <summary>Free slot for the owner (e.g. the connection), so callbacks need no closure.</summary>
    public object? Data { get; set; }

    /// <summary>True once settled.</summary>
    public bool IsSettled => State != OperationState.Pending;

    /// <summary>
    /// Requests cancellation. Returns false if already settled (or already being cancelled); true if the request was
    /// made. See the type remarks for what the final state can be. Loop thread only.
    /// </summary>
    public bool Cancel() => Loop.ProactorDriver.CancelOperation(this);

    /// <summary>Throws if Failed (a <see cref="LinuxEventSocketException"/> for a socket operation, else a
    /// <see cref="LinuxEventException"/>, named after the syscall), <see cref="OperationCanceledException"/> if Cancelled,
    /// or <see cref="LinuxEventTimeoutException"/> (a <see cref="TimeoutException"/>) if TimedOut.</summary>
    public int GetResultOrThrow()
    {
        return State switch
        {
            OperationState.Completed => Result,
            OperationState.Failed => throw LinuxEventException.Create(Error!.Errno, Seam.IoNames.Call(Kind, Fd), Seam.IoNames.IsSocketCall(Kind)),
            OperationState.Cancelled => throw new OperationCanceledException($"The {Kind} operation was cancelled."),
            OperationState.TimedOut => throw new LinuxEventTimeoutException(Seam.IoNames.Call(Kind, Fd), LinkedTimeout ?? TimeSpan.Zero),
            _ => throw new InvalidOperationException($"The {Kind} operation has not settled yet."),
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind}(fd={Fd}) {State}{(State == OperationState.Failed ? " " + Error : State == OperationState.Completed ? " " + Result : "")}";
}
