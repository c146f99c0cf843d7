using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

// io_uring ABI (include/uapi/linux/io_uring.h). The structs (IoUringSqe, IoUringCqe, IoUringParams...) each have a
// file of their own here; every one is built from fixed-width fields only, so the layouts are identical on x86-64 and
// arm64; sizes are asserted by UringNative.StructSizes() in the tests. Only little-endian targets are supported
// (poll32_events is "word-reversed for BE" in the uapi header).

/// <summary>
/// io_uring constants and the three raw syscalls. glibc has no io_uring wrappers, so the calls go through
/// <see cref="Libc"/>'s fixed-arity <c>syscall()</c> overloads; each returns the kernel's result, or -1 with errno
/// available from <see cref="Libc.LastErrno"/>.
/// </summary>
internal static unsafe class UringNative
{
    // ---- opcodes (enum io_uring_op) ----
    public const byte IORING_OP_NOP = 0, IORING_OP_READV = 1, IORING_OP_WRITEV = 2, IORING_OP_FSYNC = 3,
        IORING_OP_READ_FIXED = 4, IORING_OP_WRITE_FIXED = 5,
        IORING_OP_POLL_ADD = 6, IORING_OP_POLL_REMOVE = 7, IORING_OP_SENDMSG = 9, IORING_OP_RECVMSG = 10,
        IORING_OP_TIMEOUT = 11, IORING_OP_TIMEOUT_REMOVE = 12, IORING_OP_ACCEPT = 13, IORING_OP_ASYNC_CANCEL = 14,
        IORING_OP_LINK_TIMEOUT = 15, IORING_OP_CONNECT = 16, IORING_OP_OPENAT = 18, IORING_OP_CLOSE = 19,
        IORING_OP_READ = 22, IORING_OP_WRITE = 23, IORING_OP_SEND = 26, IORING_OP_RECV = 27,
        IORING_OP_SPLICE = 30, IORING_OP_PROVIDE_BUFFERS = 31, IORING_OP_REMOVE_BUFFERS = 32, IORING_OP_TEE = 33,
        IORING_OP_SHUTDOWN = 34, IORING_OP_MSG_RING = 40, IORING_OP_SOCKET = 45, IORING_OP_URING_CMD = 46,
        IORING_OP_SEND_ZC = 47, IORING_OP_SENDMSG_ZC = 48, IORING_OP_READ_MULTISHOT = 49, IORING_OP_WAITID = 50,
        IORING_OP_FUTEX_WAIT = 51, IORING_OP_FIXED_FD_INSTALL = 54, IORING_OP_FTRUNCATE = 55, IORING_OP_BIND = 56,
        IORING_OP_LISTEN = 57;
    public const byte IORING_OP_FALLOCATE = 17, IORING_OP_STATX = 21;

    // ---- sqe->flags (IOSQE_*) ----
    public const byte IOSQE_FIXED_FILE = 1 << 0, IOSQE_IO_DRAIN = 1 << 1, IOSQE_IO_LINK = 1 << 2,
        IOSQE_IO_HARDLINK = 1 << 3, IOSQE_ASYNC = 1 << 4, IOSQE_BUFFER_SELECT = 1 << 5, IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

    // ---- io_uring_setup flags (IORING_SETUP_*) ----
    public const uint IORING_SETUP_IOPOLL = 1u << 0, IORING_SETUP_SQPOLL = 1u << 1, IORING_SETUP_SQ_AFF = 1u << 2,
        IORING_SETUP_CQSIZE = 1u << 3, IORING_SETUP_CLAMP = 1u << 4, IORING_SETUP_ATTACH_WQ = 1u << 5,
        IORING_SETUP_R_DISABLED = 1u << 6, IORING_SETUP_SUBMIT_ALL = 1u << 7, IORING_SETUP_COOP_TASKRUN = 1u << 8,
        IORING_SETUP_TASKRUN_FLAG = 1u << 9, IORING_SETUP_SQE128 = 1u << 10, IORING_SETUP_CQE32 = 1u << 11,
        IORING_SETUP_SINGLE_ISSUER = 1u << 12, IORING_SETUP_DEFER_TASKRUN = 1u << 13, IORING_SETUP_NO_MMAP = 1u << 14,
        IORING_SETUP_REGISTERED_FD_ONLY = 1u << 15, IORING_SETUP_NO_SQARRAY = 1u << 16;

    // ---- io_uring_params.features (IORING_FEAT_*) ----
    public const uint IORING_FEAT_SINGLE_MMAP = 1u << 0, IORING_FEAT_NODROP = 1u << 1, IORING_FEAT_SUBMIT_STABLE = 1u << 2,
        IORING_FEAT_RW_CUR_POS = 1u << 3, IORING_FEAT_CUR_PERSONALITY = 1u << 4, IORING_FEAT_FAST_POLL = 1u << 5,
        IORING_FEAT_POLL_32BITS = 1u << 6, IORING_FEAT_SQPOLL_NONFIXED = 1u << 7, IORING_FEAT_EXT_ARG = 1u << 8,
        IORING_FEAT_NATIVE_WORKERS = 1u << 9, IORING_FEAT_RSRC_TAGS = 1u << 10, IORING_FEAT_CQE_SKIP = 1u << 11,
        IORING_FEAT_LINKED_FILE = 1u << 12, IORING_FEAT_REG_REG_RING = 1u << 13, IORING_FEAT_RECVSEND_BUNDLE = 1u << 14,
        IORING_FEAT_MIN_TIMEOUT = 1u << 15, IORING_FEAT_RW_ATTR = 1u << 16, IORING_FEAT_NO_IOWAIT = 1u << 17;

    // ---- io_uring_enter flags (IORING_ENTER_*) ----
    public const uint IORING_ENTER_GETEVENTS = 1u << 0, IORING_ENTER_SQ_WAKEUP = 1u << 1, IORING_ENTER_SQ_WAIT = 1u << 2,
        IORING_ENTER_EXT_ARG = 1u << 3, IORING_ENTER_REGISTERED_RING = 1u << 4;

    // ---- sq_ring->flags (IORING_SQ_*) ----
    public const uint IORING_SQ_NEED_WAKEUP = 1u << 0, IORING_SQ_CQ_OVERFLOW = 1u << 1, IORING_SQ_TASKRUN = 1u << 2;

    // ---- cqe->flags (IORING_CQE_F_*) ----
    public const uint IORING_CQE_F_BUFFER = 1u << 0, IORING_CQE_F_MORE = 1u << 1, IORING_CQE_F_SOCK_NONEMPTY = 1u << 2,
        IORING_CQE_F_NOTIF = 1u << 3, IORING_CQE_F_BUF_MORE = 1u << 4;
    public const int IORING_CQE_BUFFER_SHIFT = 16;

    // ---- sqe->ioprio flags for accept / send / recv ----
    public const ushort IORING_ACCEPT_MULTISHOT = 1 << 0;
    public const ushort IORING_RECVSEND_POLL_FIRST = 1 << 0, IORING_RECV_MULTISHOT = 1 << 1,
        IORING_RECVSEND_FIXED_BUF = 1 << 2, IORING_SEND_ZC_REPORT_USAGE = 1 << 3, IORING_RECVSEND_BUNDLE = 1 << 4;

    // ---- POLL_ADD command flags (stored in sqe->len) ----
    public const uint IORING_POLL_ADD_MULTI = 1u << 0, IORING_POLL_UPDATE_EVENTS = 1u << 1,
        IORING_POLL_UPDATE_USER_DATA = 1u << 2, IORING_POLL_ADD_LEVEL = 1u << 3;

    // ---- sqe->timeout_flags ----
    public const uint IORING_TIMEOUT_ABS = 1u << 0, IORING_TIMEOUT_UPDATE = 1u << 1, IORING_TIMEOUT_BOOTTIME = 1u << 2,
        IORING_TIMEOUT_REALTIME = 1u << 3, IORING_LINK_TIMEOUT_UPDATE = 1u << 4, IORING_TIMEOUT_ETIME_SUCCESS = 1u << 5,
        IORING_TIMEOUT_MULTISHOT = 1u << 6;

    // ---- sqe->cancel_flags ----
    public const uint IORING_ASYNC_CANCEL_ALL = 1u << 0, IORING_ASYNC_CANCEL_FD = 1u << 1, IORING_ASYNC_CANCEL_ANY = 1u << 2,
        IORING_ASYNC_CANCEL_FD_FIXED = 1u << 3, IORING_ASYNC_CANCEL_USERDATA = 1u << 4, IORING_ASYNC_CANCEL_OP = 1u << 5;

    // ---- mmap offsets ----
    public const long IORING_OFF_SQ_RING = 0, IORING_OFF_CQ_RING = 0x8000000, IORING_OFF_SQES = 0x10000000;

    // ---- io_uring_register opcodes ----
    public const uint IORING_REGISTER_BUFFERS = 0, IORING_UNREGISTER_BUFFERS = 1, IORING_REGISTER_FILES = 2,
        IORING_UNREGISTER_FILES = 3, IORING_REGISTER_EVENTFD = 4, IORING_UNREGISTER_EVENTFD = 5,
        IORING_REGISTER_PROBE = 8, IORING_REGISTER_ENABLE_RINGS = 12, IORING_REGISTER_RING_FDS = 20,
        IORING_UNREGISTER_RING_FDS = 21, IORING_REGISTER_PBUF_RING = 22, IORING_UNREGISTER_PBUF_RING = 23,
        IORING_REGISTER_SYNC_CANCEL = 24, IORING_REGISTER_PBUF_STATUS = 26;

    /// <summary>io_uring_probe_op.flags bit: the opcode is implemented.</summary>
    public const ushort IO_URING_OP_SUPPORTED = 1 << 0;

    /// <summary>Largest SQ size io_uring_setup accepts without IORING_SETUP_CLAMP (IORING_MAX_ENTRIES).</summary>
    public const uint IORING_MAX_ENTRIES = 32768;

    /// <summary>Largest provided-buffer ring (ring_entries must be a power of two below 65536).</summary>
    public const int PBUF_RING_MAX_ENTRIES = 32768;

    /// <summary>EBADR (53, asm-generic): returned by io_uring_enter when the kernel had to drop CQEs despite
    /// IORING_FEAT_NODROP (overflow entry allocation failed). Not in <see cref="Errno"/>.</summary>
    public const int EBADR = 53;

    /// <summary>io_uring_setup(2).</summary>
    public static int Setup(uint entries, IoUringParams* p)
        => (int)Libc.Syscall2(Libc.SYS_io_uring_setup, entries, (long)p);

    /// <summary>io_uring_enter(2) with an optional extended argument (<paramref name="argSize"/> bytes at
    /// <paramref name="arg"/>; with IORING_ENTER_EXT_ARG this is an <see cref="IoUringGeteventsArg"/>).</summary>
    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize)
        => (int)Libc.Syscall6(Libc.SYS_io_uring_enter, ringFd, toSubmit, minComplete, flags, (long)arg, (long)argSize);

    /// <summary>io_uring_register(2).</summary>
    public static int Register(int ringFd, uint opcode, void* arg, uint nrArgs)
        => (int)Libc.Syscall4(Libc.SYS_io_uring_register, ringFd, opcode, (long)arg, nrArgs);

    /// <summary>
    /// Managed sizes of every io_uring struct declared here, for tests to compare with the kernel ABI
    /// (sqe 64, cqe 16, params 120, sq/cq offsets 40, probe 16, probe_op 8, buf_reg 40, buf 16,
    /// getevents_arg 24, __kernel_timespec 16).
    /// </summary>
    public static (string Name, int Size, int Expected)[] StructSizes() =>
    [
        ("io_uring_sqe", sizeof(IoUringSqe), 64),
        ("io_uring_cqe", sizeof(IoUringCqe), 16),
        ("io_uring_params", sizeof(IoUringParams), 120),
        ("io_sqring_offsets", sizeof(IoSqringOffsets), 40),
        ("io_cqring_offsets", sizeof(IoCqringOffsets), 40),
        ("io_uring_probe", sizeof(IoUringProbe), 16),
        ("io_uring_probe_op", sizeof(IoUringProbeOp), 8),
        ("io_uring_buf_reg", sizeof(IoUringBufReg), 40),
        ("io_uring_buf", sizeof(IoUringBuf), 16),
        ("io_uring_getevents_arg", sizeof(IoUringGeteventsArg), 24),
        ("__kernel_timespec", sizeof(KernelTimespec), 16),
    ];
}
