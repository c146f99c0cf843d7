using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_cqring_offsets</c>: byte offsets of the CQ ring fields inside the CQ ring mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoCqringOffsets
{
    public uint head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
    public ulong user_addr;
}
