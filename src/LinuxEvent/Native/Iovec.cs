using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct iovec</c> (void *iov_base; size_t iov_len): 16 bytes on every 64-bit Linux ABI.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Iovec
{
    /// <summary>Start of the buffer.</summary>
    public void* Base;
    /// <summary>Length of the buffer in bytes.</summary>
    public nuint Length;
}
