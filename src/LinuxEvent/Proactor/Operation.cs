using System.Buffers;

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
    internal Datagrams.MessageBlock? Message;                // sendmsg/recvmsg: the pinned msghdr (owned by the AsyncOp)
    internal Files.FileRequest? File;                        // file operations other than Read/Write: the arguments and pins

    internal Operation(ProactorLoop loop, OperationKind kind, Action<Operation>? callback)
    {
        Loop = loop;
        Kind = kind;
        Callback = callback;
    }

    /// <summary>What this operation does.</summary>
    public OperationKind Kind { get; internal set; }

    /// <summary>Pending until it settles; then Completed, Failed, Cancelled or (given a timeout) TimedOut, exactly once
    /// per submission.</summary>
    public OperationState State { get; internal set; }

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
