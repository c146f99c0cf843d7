using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_buf</c> (16 bytes): one provided-buffer ring slot. The ring's 16-bit tail
/// overlays <c>resv</c> of slot 0, so producers must write <c>addr</c>, <c>len</c> and <c>bid</c> only.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringBuf
{
    public ulong addr;
    public uint len;
    public ushort bid;
    public ushort resv;
}
