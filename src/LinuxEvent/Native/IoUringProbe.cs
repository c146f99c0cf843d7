using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_probe</c> header (16 bytes), followed in memory by <c>ops_len</c>
/// <see cref="IoUringProbeOp"/> entries.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringProbe
{
    public byte last_op;
    public byte ops_len;
    public ushort resv;
    public fixed uint resv2[3];
}
