using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct iovec</c>: one buffer of a scatter/gather array (16 bytes on LP64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    /// <summary>Start of the buffer.</summary>
    public void* iov_base;
    /// <summary>Its length in bytes.</summary>
    public nuint iov_len;
}
