using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_sqring_offsets</c>: byte offsets of the SQ ring fields inside the SQ ring mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoSqringOffsets
{
    public uint head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
    public ulong user_addr;
}
