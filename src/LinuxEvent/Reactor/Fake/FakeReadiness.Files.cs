using LinuxEvent.Files;
using LinuxEvent.Reactor;

namespace LinuxEvent;

// File operations on the fake reactor: the worker pool does not exist here (no thread, no syscall). Each file request
// waits in PendingFileOperations until the test settles it; like every fake settlement, the await's continuation runs on
// the next RunOnce/Run. Cancellation removes a pending request (it completes cancelled); loop disposal fails the rest.
public sealed partial class FakeReadiness
{
    internal FakeFileQueue Files { get; } = new();

    /// <summary>File operations waiting for the script, in submission order.</summary>
    public IReadOnlyList<FakeFileOperation> PendingFileOperations => Files.Pending;

    /// <summary>
    /// Completes a pending file operation with <paramref name="result"/>: bytes transferred (at most what it asked for),
    /// the new fd of an OpenAt (owned by whoever awaits it), or 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">The operation is not pending on this loop.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative result, or more bytes than asked for.</exception>
    public void Complete(FakeFileOperation operation, int result)
    {
        const string call = "FakeReadiness.Complete";
        ArgumentNullException.ThrowIfNull(operation);
        if (result < 0) throw new ArgumentOutOfRangeException(nameof(result), result, $"{call}: use Fail for errors.");
        if (IsTransfer(operation.Kind) && result > operation.Length)
            throw new ArgumentOutOfRangeException(nameof(result), result, $"{call}: the {operation.Kind} asked for at most {operation.Length} bytes.");
        Settle(operation, call, result);
    }

    /// <summary>Completes a pending Read or ReadV with <paramref name="data"/> copied into its buffer(s), in order
    /// (shorter than asked = end of file).</summary>
    /// <exception cref="ArgumentException">The operation is not a read, or <paramref name="data"/> is longer than asked for.</exception>
    public void CompleteRead(FakeFileOperation operation, ReadOnlySpan<byte> data)
    {
        const string call = "FakeReadiness.CompleteRead";
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Kind is not (OperationKind.Read or OperationKind.ReadV))
            throw new ArgumentException($"{call}: the operation is a {operation.Kind}, not a Read or ReadV.", nameof(operation));
        if (data.Length > operation.Length)
            throw new ArgumentException($"{call}: {data.Length} bytes given but the {operation.Kind} asked for at most {operation.Length}.", nameof(data));
        var r = Pending(operation, call);
        FakeFileData.Scatter(r, data);
        Settle(operation, call, data.Length);
    }

    /// <summary>Completes a pending Statx with <paramref name="status"/>.</summary>
    /// <exception cref="ArgumentException">The operation is not a Statx.</exception>
    public void CompleteStatx(FakeFileOperation operation, FileStatus status)
    {
        const string call = "FakeReadiness.CompleteStatx";
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Kind != OperationKind.Statx) throw new ArgumentException($"{call}: the operation is a {operation.Kind}, not a Statx.", nameof(operation));
        status.Write(Pending(operation, call).Buffer.Span);
        Settle(operation, call, 0);
    }

    /// <summary>Fails a pending file operation with <paramref name="errno"/> (positive, e.g. 21 for EISDIR); the await
    /// throws the same <see cref="LinuxEventException"/> a real worker's failure would.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="errno"/> is not positive.</exception>
    public void Fail(FakeFileOperation operation, int errno)
    {
        const string call = "FakeReadiness.Fail";
        ArgumentNullException.ThrowIfNull(operation);
        if (errno <= 0) throw new ArgumentOutOfRangeException(nameof(errno), errno, $"{call}: errno must be positive.");
        Settle(operation, call, -errno);
    }

    /// <summary>The bytes a pending Write or WriteV would write (gathered in order).</summary>
    /// <exception cref="ArgumentException">The operation is not a write.</exception>
    public byte[] GetWrittenData(FakeFileOperation operation)
    {
        const string call = "FakeReadiness.GetWrittenData";
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Kind is not (OperationKind.Write or OperationKind.WriteV))
            throw new ArgumentException($"{call}: the operation is a {operation.Kind}, not a Write or WriteV.", nameof(operation));
        return FakeFileData.Gather(Pending(operation, call));
    }

    private static bool IsTransfer(OperationKind k) => k is OperationKind.Read or OperationKind.Write or OperationKind.ReadV or OperationKind.WriteV;

    private FileRequest Pending(FakeFileOperation operation, string call)
    {
        _loop.CheckLoopThread(call);
        if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
        if (operation.Request is not { } r || !Files.Pending.Contains(operation))
            throw new InvalidOperationException($"{call}: {operation} is not pending on this fake reactor.");
        return r;
    }

    private void Settle(FakeFileOperation operation, string call, int result)
    {
        Pending(operation, call);
        var r = Files.Take(operation)!;
        ((ReactorIoDriver)_loop.Driver).DeliverFile(r, result);
    }
}
