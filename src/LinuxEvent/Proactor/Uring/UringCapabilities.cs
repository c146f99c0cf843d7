using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

/// <summary>
/// What the running kernel's io_uring offers, captured once when a <see cref="UringRing"/> is created:
/// the IORING_FEAT_* bits, the IORING_SETUP_* flags the ring was actually created with, and the opcode set
/// reported by IORING_REGISTER_PROBE (5.6). Immutable and safe to share across threads.
/// <para>
/// Some capabilities have no feature bit; they are inferred from an opcode introduced in the same kernel release
/// (documented on each property). The Operation layer should consult these before using a feature and fall back
/// (single-shot accept/recv, plain buffers) or fail with <see cref="LinuxEventUnsupportedException"/>.
/// </para>
/// </summary>
internal sealed class UringCapabilities
{
    private readonly ulong[] _ops; // 256-bit opcode set

    /// <summary>Creates the capability record. <paramref name="supportedOps"/> holds the opcodes the probe
    /// reported as supported (empty when the probe itself is unavailable, i.e. before 5.6).</summary>
    public UringCapabilities(uint features, uint setupFlags, ReadOnlySpan<byte> supportedOps, int lastOp)
    {
        Features = features;
        SetupFlags = setupFlags;
        LastOpcode = lastOp;
        _ops = new ulong[4];
        foreach (byte op in supportedOps)
            _ops[op >> 6] |= 1UL << (op & 63);
    }

    /// <summary>IORING_FEAT_* bits from io_uring_params.features.</summary>
    public uint Features { get; }

    /// <summary>IORING_SETUP_* flags the ring was created with (after stepping down for older kernels).</summary>
    public uint SetupFlags { get; }

    /// <summary>The kernel's last_op from the probe (highest opcode it knows), or -1 if probing failed.</summary>
    public int LastOpcode { get; }

    /// <summary>True when the kernel reported <paramref name="opcode"/> as implemented.</summary>
    public bool Supports(byte opcode) => (_ops[opcode >> 6] & (1UL << (opcode & 63))) != 0;

    /// <summary>IORING_FEAT_NODROP (5.5): CQEs that do not fit the CQ ring are kept and flushed later. Always true
    /// for a created ring (it is required).</summary>
    public bool NoDrop => (Features & UringNative.IORING_FEAT_NODROP) != 0;

    /// <summary>IORING_FEAT_EXT_ARG (5.11): io_uring_enter accepts a timeout, so waits need no TIMEOUT SQE.</summary>
    public bool ExtArg => (Features & UringNative.IORING_FEAT_EXT_ARG) != 0;

    /// <summary>IORING_FEAT_FAST_POLL (5.7): socket ops that would block are armed on an internal poll instead of
    /// a worker thread, so plain recv/send/accept are efficient (no POLL_ADD + link needed).</summary>
    public bool FastPoll => (Features & UringNative.IORING_FEAT_FAST_POLL) != 0;

    /// <summary>IORING_FEAT_SUBMIT_STABLE (5.5): data pointed to by an SQE is consumed at submit time.</summary>
    public bool SubmitStable => (Features & UringNative.IORING_FEAT_SUBMIT_STABLE) != 0;

    /// <summary>IORING_SETUP_SINGLE_ISSUER (6.0) is in effect: only the submitter thread may enter or register.</summary>
    public bool SingleIssuer => (SetupFlags & UringNative.IORING_SETUP_SINGLE_ISSUER) != 0;

    /// <summary>IORING_SETUP_DEFER_TASKRUN (6.1) is in effect: completions are produced only while the submitter
    /// thread is inside io_uring_enter with IORING_ENTER_GETEVENTS.</summary>
    public bool DeferTaskrun => (SetupFlags & UringNative.IORING_SETUP_DEFER_TASKRUN) != 0;

    /// <summary>IORING_SETUP_COOP_TASKRUN (5.19) is in effect.</summary>
    public bool CoopTaskrun => (SetupFlags & UringNative.IORING_SETUP_COOP_TASKRUN) != 0;

    /// <summary>IORING_SETUP_SUBMIT_ALL (5.18) is in effect: a failing SQE does not stop the rest of the batch.</summary>
    public bool SubmitAll => (SetupFlags & UringNative.IORING_SETUP_SUBMIT_ALL) != 0;

    /// <summary>IORING_SETUP_NO_SQARRAY (6.6) is in effect: SQEs are consumed in ring order without the index array.</summary>
    public bool NoSqArray => (SetupFlags & UringNative.IORING_SETUP_NO_SQARRAY) != 0;

    /// <summary>Multishot accept (IORING_ACCEPT_MULTISHOT, 5.19). No feature bit exists; inferred from
    /// IORING_OP_SOCKET, introduced in the same release.</summary>
    public bool MultishotAccept => Supports(UringNative.IORING_OP_SOCKET);

    /// <summary>Provided-buffer rings (IORING_REGISTER_PBUF_RING, 5.19). Inferred from IORING_OP_SOCKET (5.19).</summary>
    public bool ProvidedBufferRing => Supports(UringNative.IORING_OP_SOCKET);

    /// <summary>Multishot recv (IORING_RECV_MULTISHOT, 6.0). Inferred from IORING_OP_SEND_ZC (6.0).</summary>
    public bool MultishotRecv => Supports(UringNative.IORING_OP_SEND_ZC);

    /// <summary>Multishot POLL_ADD (IORING_POLL_ADD_MULTI, 5.13). No feature bit or opcode exists for it; inferred from
    /// IORING_FEAT_RSRC_TAGS, introduced in the same release. Before 5.13 the kernel rejects the flag with -EINVAL, so
    /// polls must be single-shot and re-armed per completion.</summary>
    public bool MultishotPoll => (Features & UringNative.IORING_FEAT_RSRC_TAGS) != 0;

    /// <summary>IORING_OP_READ_MULTISHOT (6.7) is implemented.</summary>
    public bool MultishotRead => Supports(UringNative.IORING_OP_READ_MULTISHOT);

    /// <summary>Cancellation keyed by fd and the ALL/ANY flags (5.19). Inferred from IORING_OP_SOCKET (5.19).</summary>
    public bool CancelByFd => Supports(UringNative.IORING_OP_SOCKET);

    /// <summary>IORING_FEAT_RECVSEND_BUNDLE (6.10): bundled send/recv over provided buffers.</summary>
    public bool RecvSendBundle => (Features & UringNative.IORING_FEAT_RECVSEND_BUNDLE) != 0;

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("io_uring: features=0x").Append(Features.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        sb.Append(" [");
        AppendNames(sb, Features, FeatureNames);
        sb.Append("] setup=0x").Append(SetupFlags.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        sb.Append(" [");
        AppendNames(sb, SetupFlags, SetupNames);
        sb.Append("] last_op=").Append(LastOpcode);
        int count = 0;
        for (int op = 0; op < 256; op++)
            if (Supports((byte)op)) count++;
        sb.Append(" ops=").Append(count);
        sb.Append(" multishot_accept=").Append(MultishotAccept);
        sb.Append(" multishot_recv=").Append(MultishotRecv);
        sb.Append(" multishot_read=").Append(MultishotRead);
        sb.Append(" multishot_poll=").Append(MultishotPoll);
        sb.Append(" pbuf_ring=").Append(ProvidedBufferRing);
        sb.Append(" cancel_fd=").Append(CancelByFd);
        sb.Append(" ext_arg=").Append(ExtArg);
        sb.Append(" fast_poll=").Append(FastPoll);
        sb.Append(" bundle=").Append(RecvSendBundle);
        return sb.ToString();
    }

    private static void AppendNames(StringBuilder sb, uint bits, string[] names)
    {
        bool first = true;
        for (int i = 0; i < 32; i++)
        {
            if ((bits & (1u << i)) == 0) continue;
            if (!first) sb.Append(',');
            first = false;
            sb.Append(i < names.Length ? names[i] : "bit" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static readonly string[] FeatureNames =
    [
        "SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY", "FAST_POLL", "POLL_32BITS",
        "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP", "LINKED_FILE", "REG_REG_RING",
        "RECVSEND_BUNDLE", "MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT",
    ];

    private static readonly string[] SetupNames =
    [
        "IOPOLL", "SQPOLL", "SQ_AFF", "CQSIZE", "CLAMP", "ATTACH_WQ", "R_DISABLED", "SUBMIT_ALL", "COOP_TASKRUN",
        "TASKRUN_FLAG", "SQE128", "CQE32", "SINGLE_ISSUER", "DEFER_TASKRUN", "NO_MMAP", "REGISTERED_FD_ONLY",
        "NO_SQARRAY",
    ];
}
