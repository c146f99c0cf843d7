using LinuxEvent.Files;

namespace LinuxEvent;

// Scripting file operations on the fake proactor. They show in Pending like any operation, with their kind, fd,
// FileOffset, RequestedLength and Path; Complete, CompleteRead (also ReadV) and Fail settle them as for sockets.
public sealed partial class FakeCompletions
{
    /// <summary>Completes a pending <see cref="OperationKind.Statx"/> with <paramref name="status"/> (what the kernel
    /// would have written).</summary>
    /// <exception cref="ArgumentException">The operation is not a Statx.</exception>
    /// <exception cref="InvalidOperationException">The operation is not pending on this loop.</exception>
    public void CompleteStatx(Operation op, FileStatus status)
    {
        CheckPending(op, nameof(CompleteStatx));
        if (op.Kind != OperationKind.Statx) throw new ArgumentException($"FakeCompletions.CompleteStatx: the operation is a {op.Kind}, not a Statx.", nameof(op));
        status.Write(op.File!.StatxBlock);
        _backend.Resolve(op, 0);
    }

    /// <summary>The bytes a pending <see cref="OperationKind.Write"/> or <see cref="OperationKind.WriteV"/> would write
    /// (a vector gathered in order).</summary>
    /// <exception cref="ArgumentException">The operation is not a write.</exception>
    public byte[] GetWrittenData(Operation op)
    {
        CheckPending(op, nameof(GetWrittenData));
        return op.Kind switch
        {
            OperationKind.Write => op.ConstBuffer.ToArray(),
            OperationKind.WriteV => FakeFileData.Gather(op.File!),
            _ => throw new ArgumentException($"FakeCompletions.GetWrittenData: the operation is a {op.Kind}, not a Write or WriteV.", nameof(op)),
        };
    }
}
