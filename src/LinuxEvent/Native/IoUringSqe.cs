using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_sqe</c>: one 64-byte submission queue entry. Unions are expressed as overlapping
/// explicit offsets; only the members this runtime uses are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct IoUringSqe
{
    /// <summary>IORING_OP_* opcode.</summary>
    [FieldOffset(0)] public byte opcode;
    /// <summary>IOSQE_* flags.</summary>
    [FieldOffset(1)] public byte flags;
    /// <summary>Request priority; for accept/recv/send it carries IORING_ACCEPT_*/IORING_RECV*_ flags.</summary>
    [FieldOffset(2)] public ushort ioprio;
    /// <summary>File descriptor the request targets.</summary>
    [FieldOffset(4)] public int fd;
    /// <summary>File offset (read/write/splice out), timeout count, or connect's addrlen value.</summary>
    [FieldOffset(8)] public ulong off;
    /// <summary>Second address (accept: <c>socklen_t*</c> addrlen).</summary>
    [FieldOffset(8)] public ulong addr2;
    /// <summary>Buffer / sockaddr / timespec pointer, or the target user_data for cancel/remove opcodes.</summary>
    [FieldOffset(16)] public ulong addr;
    /// <summary>Splice input offset (same slot as <see cref="addr"/>).</summary>
    [FieldOffset(16)] public ulong splice_off_in;
    /// <summary>Buffer length, iovec count, shutdown's <c>how</c>, or POLL_ADD command flags.</summary>
    [FieldOffset(24)] public uint len;
    /// <summary>read/write RWF_* flags.</summary>
    [FieldOffset(28)] public uint rw_flags;
    /// <summary>poll event mask (32-bit form; little-endian layout).</summary>
    [FieldOffset(28)] public uint poll32_events;
    /// <summary>send/recv MSG_* flags.</summary>
    [FieldOffset(28)] public uint msg_flags;
    /// <summary>IORING_TIMEOUT_* flags.</summary>
    [FieldOffset(28)] public uint timeout_flags;
    /// <summary>accept4 flags (SOCK_CLOEXEC | SOCK_NONBLOCK).</summary>
    [FieldOffset(28)] public uint accept_flags;
    /// <summary>IORING_ASYNC_CANCEL_* flags.</summary>
    [FieldOffset(28)] public uint cancel_flags;
    /// <summary>splice(2) SPLICE_F_* flags.</summary>
    [FieldOffset(28)] public uint splice_flags;
    /// <summary>IORING_FSYNC_* flags (IORING_FSYNC_DATASYNC).</summary>
    [FieldOffset(28)] public uint fsync_flags;
    /// <summary>openat(2) O_* flags.</summary>
    [FieldOffset(28)] public uint open_flags;
    /// <summary>statx(2) AT_* flags.</summary>
    [FieldOffset(28)] public uint statx_flags;
    /// <summary>Opaque value copied verbatim into every CQE this request produces.</summary>
    [FieldOffset(32)] public ulong user_data;
    /// <summary>Registered-buffer index.</summary>
    [FieldOffset(40)] public ushort buf_index;
    /// <summary>Provided-buffer group id, used with IOSQE_BUFFER_SELECT.</summary>
    [FieldOffset(40)] public ushort buf_group;
    /// <summary>Registered personality (credentials) id.</summary>
    [FieldOffset(42)] public ushort personality;
    /// <summary>Splice input fd.</summary>
    [FieldOffset(44)] public int splice_fd_in;
    /// <summary>Fixed-file slot for direct descriptors (0 = ordinary fd).</summary>
    [FieldOffset(44)] public uint file_index;
    /// <summary>Third address slot.</summary>
    [FieldOffset(48)] public ulong addr3;
    /// <summary>Reserved; must be zero.</summary>
    [FieldOffset(56)] public ulong pad2;
}
