using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

// File operations on io_uring: which the kernel supports (from the opcode probe) and their SQEs.
internal sealed unsafe partial class UringProactorBackend
{
    /// <summary>Marks the file kinds the probe reported (every kind is allowed when the probe itself is missing).</summary>
    private void InitFileKinds(UringCapabilities caps, bool known)
    {
        _kindSupported[(int)OperationKind.ReadV] = !known || caps.Supports(UringNative.IORING_OP_READV);
        _kindSupported[(int)OperationKind.WriteV] = !known || caps.Supports(UringNative.IORING_OP_WRITEV);
        _kindSupported[(int)OperationKind.Fsync] = !known || caps.Supports(UringNative.IORING_OP_FSYNC);
        _kindSupported[(int)OperationKind.Fdatasync] = !known || caps.Supports(UringNative.IORING_OP_FSYNC);
        _kindSupported[(int)OperationKind.OpenAt] = !known || caps.Supports(UringNative.IORING_OP_OPENAT);
        _kindSupported[(int)OperationKind.Statx] = !known || caps.Supports(UringNative.IORING_OP_STATX);
        _kindSupported[(int)OperationKind.Fallocate] = !known || caps.Supports(UringNative.IORING_OP_FALLOCATE);
    }

    /// <summary>Test seam: behave as if the kernel's probe had not reported <paramref name="kind"/>.</summary>
    internal void DisableKindForTesting(OperationKind kind) => _kindSupported[(int)kind] = false;

    /// <summary>What a missing file opcode is called, for the unsupported-kernel error; null for other kinds.</summary>
    private static string? FileOpcodeName(OperationKind kind) => kind switch
    {
        OperationKind.Read => "IORING_OP_READ (Linux 5.6)",
        OperationKind.Write => "IORING_OP_WRITE (Linux 5.6)",
        OperationKind.ReadV => "IORING_OP_READV (Linux 5.1)",
        OperationKind.WriteV => "IORING_OP_WRITEV (Linux 5.1)",
        OperationKind.Fsync or OperationKind.Fdatasync => "IORING_OP_FSYNC (Linux 5.1)",
        OperationKind.OpenAt => "IORING_OP_OPENAT (Linux 5.6)",
        OperationKind.Statx => "IORING_OP_STATX (Linux 5.6)",
        OperationKind.Fallocate => "IORING_OP_FALLOCATE (Linux 5.6)",
        OperationKind.Close => "IORING_OP_CLOSE (Linux 5.6)",
        _ => null,
    };

    /// <summary>Fills the SQE of a file operation other than Read/Write/Close; its memory is pinned (ProactorIoDriver.Submit).</summary>
    private static void PrepFile(IoUringSqe* sqe, Operation op, ulong ud)
    {
        var f = op.File!;
        switch (op.Kind)
        {
            case OperationKind.ReadV:
                UringPrep.ReadV(sqe, op.Fd, f.Iov, (uint)f.IovCount, OffsetOf(op.Offset), ud);
                break;
            case OperationKind.WriteV:
                UringPrep.WriteV(sqe, op.Fd, f.Iov, (uint)f.IovCount, OffsetOf(op.Offset), ud);
                break;
            case OperationKind.Fsync:
                UringPrep.Fsync(sqe, op.Fd, 0, ud);
                break;
            case OperationKind.Fdatasync:
                UringPrep.Fsync(sqe, op.Fd, Libc.IORING_FSYNC_DATASYNC, ud);
                break;
            case OperationKind.OpenAt:
                UringPrep.OpenAt(sqe, f.Fd, f.PathPointer, f.Flags, (uint)f.Mode, ud);
                break;
            case OperationKind.Statx:
                UringPrep.Statx(sqe, f.Fd, f.PathPointer, f.Flags, (uint)f.Mode, f.BufferPointer, ud);
                break;
            case OperationKind.Fallocate:
                UringPrep.Fallocate(sqe, op.Fd, f.Flags, op.Offset, f.Length, ud);
                break;
        }
    }
}
