using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_probe_op</c> (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringProbeOp
{
    public byte op;
    public byte resv;
    /// <summary>IO_URING_OP_SUPPORTED when the opcode is implemented.</summary>
    public ushort flags;
    public uint resv2;
}
