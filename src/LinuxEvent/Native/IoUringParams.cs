using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_params</c> (120 bytes): passed to io_uring_setup, filled in by the kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint sq_entries;
    public uint cq_entries;
    public uint flags;
    public uint sq_thread_cpu;
    public uint sq_thread_idle;
    public uint features;
    public uint wq_fd;
    public fixed uint resv[3];
    public IoSqringOffsets sq_off;
    public IoCqringOffsets cq_off;
}
