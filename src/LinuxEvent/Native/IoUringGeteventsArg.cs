using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_getevents_arg</c> (24 bytes): io_uring_enter's argument with IORING_ENTER_EXT_ARG.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringGeteventsArg
{
    public ulong sigmask;
    public uint sigmask_sz;
    /// <summary><c>pad</c> before 6.12, <c>min_wait_usec</c> since (only honoured with IORING_FEAT_MIN_TIMEOUT).</summary>
    public uint min_wait_usec;
    /// <summary>Pointer to a <see cref="KernelTimespec"/> (relative timeout), or 0 for none.</summary>
    public ulong ts;
}
