using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct __kernel_timespec</c> (16 bytes, 64-bit fields on every architecture).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KernelTimespec
{
    public long tv_sec;
    public long tv_nsec;

    /// <summary>Splits a non-negative nanosecond count.</summary>
    public static KernelTimespec FromNanoseconds(long ns)
        => new() { tv_sec = ns / 1_000_000_000, tv_nsec = ns % 1_000_000_000 };
}
