using LinuxEvent.Async;
using LinuxEvent.Files;

namespace LinuxEvent.Proactor;

// The proactor's file operations: each is one native io_uring request (READ/WRITE at an offset, READV/WRITEV, FSYNC,
// OPENAT, STATX, FALLOCATE, CLOSE) on the pooled awaitable's reusable Operation, so a steady stream of them allocates
// nothing. The request's memory (buffer, iovec array, path, statx block) stays pinned until the operation's own CQE.
internal sealed partial class ProactorIoDriver
{
    public override void StartFile(AsyncOp a)
    {
        var r = a.File!;
        var op = PrepareAsyncOperation(a, r.Kind, r.Fd, r.Offset);
        // Read and Write use the operation's own buffer fields (and pin), like the callback API's Read/Write, so the
        // fake's CompleteRead and the SQE preparation are shared; the other kinds carry everything in the request.
        // One storage for both directions: a read's buffer, a write's, or none.
        if (r.Kind == OperationKind.Write) op.ConstBuffer = r.ConstBuffer;
        else op.Buffer = r.Kind == OperationKind.Read ? r.Buffer : default;
        op.Length = (int)Math.Min(r.Length, int.MaxValue);
        op.File = r;
        op.LinkTimeoutNs = a.TimeoutNs;
        op.FixedFile = -1;                      // file calls name the fd number (the registered table serves sockets)
        try
        {
            if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
            Submit(op);
        }
        catch (Exception ex)
        {
            op.ConstBuffer = default;                   // either direction's buffer (one storage)
            r.ClearReferences();
            a.Fail(ex);         // a submission failure (e.g. an opcode this kernel lacks) completes the await with the error
        }
    }

    /// <summary>True if an async file operation naming <paramref name="fd"/> is in flight (not an open or a statx by
    /// path, whose fd is a directory).</summary>
    private bool HasFileOperations(int fd)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i] is { } op && IsFileOperationOn(op, fd)) return true;
        return false;
    }

    /// <summary>
    /// A <see cref="LoopFd"/> ends: its async file operations are cancelled. One the kernel had not started settles with
    /// ObjectDisposedException; one already running (a regular-file read in the block layer cannot be cancelled)
    /// delivers its real result. Either way the request holds its own reference to the file, so closing the fd next is
    /// safe.
    /// </summary>
    private void CancelFilesForDisposal(int fd)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i] is { } op && IsFileOperationOn(op, fd)) CancelForDisposal((AsyncOp)op.Data!);
    }

    private static bool IsFileOperationOn(Operation op, int fd)
        => op.Fd == fd && op.State == OperationState.Pending && op.Data is AsyncOp { Kind: AsyncKind.File } a
            && ReferenceEquals(a.ProactorOperation, op) && op.Kind != OperationKind.OpenAt && op.Path is null;
}
