using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_cqe</c> (16 bytes; rings are never created with IORING_SETUP_CQE32).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    /// <summary>The submitting SQE's user_data.</summary>
    public ulong user_data;
    /// <summary>Result: the syscall-style return value, or -errno.</summary>
    public int res;
    /// <summary>IORING_CQE_F_* flags; the upper 16 bits carry the buffer id when IORING_CQE_F_BUFFER is set.</summary>
    public uint flags;
}
