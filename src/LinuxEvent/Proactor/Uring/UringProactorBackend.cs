using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Kernel;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>
/// The io_uring completion backend of <see cref="ProactorLoop"/>: every <see cref="Operation"/> becomes one SQE whose
/// user_data is <see cref="ProactorIoDriver.UserDataOf"/> (slot + generation), and every CQE is routed back through
/// <see cref="ProactorIoDriver.Resolve"/>, so a completion for a submission that no longer exists is recognised as stale.
/// </summary>
/// <remarks>
/// <para><b>One enter per iteration.</b> <see cref="Submit"/> only writes SQEs into the mmapped SQ (no syscall, never
/// a completion); <see cref="Wait"/> hands them to the kernel and waits with a single io_uring_enter(GETEVENTS), then
/// reaps and dispatches every CQE. An extra enter happens only when the SQ is full at submission, or when the kernel
/// flags overflowed CQEs / deferred task work after the reap (IORING_SQ_CQ_OVERFLOW, IORING_SQ_TASKRUN).</para>
/// <para><b>Owner thread.</b> The ring is created disabled (IORING_SETUP_R_DISABLED) and enabled by the first thread
/// that needs the kernel (first <see cref="Wait"/>, a full SQ, or a buffer-pool registration). With
/// IORING_SETUP_SINGLE_ISSUER that thread becomes the only task allowed to io_uring_enter/io_uring_register (the kernel
/// answers EEXIST to others), and with IORING_SETUP_DEFER_TASKRUN completions are only posted while it is inside
/// io_uring_enter. Driving the loop from another thread later throws <see cref="InvalidOperationException"/> naming
/// both threads.</para>
/// <para><b>Internal user_data.</b> <see cref="ProactorIoDriver.UserDataOf"/> never sets bit 63; this backend's own SQEs
/// (the wake poll, internal fd polls, cancel / timeout-remove / poll-remove requests) set it and carry a tag in bits
/// 56..62. None of them is ever all-ones: ulong.MaxValue is <see cref="UringRing.ReservedUserData"/>.</para>
/// <para><b>Cancellation.</b> <see cref="Cancel"/> submits IORING_OP_ASYNC_CANCEL (a timeout: IORING_OP_TIMEOUT_REMOVE)
/// keyed by the target's user_data. The cancel's own CQE (0, -ENOENT, -EALREADY) is ignored; whether the operation
/// was cancelled is decided only by the target's CQE (-ECANCELED, or its real result if it won the race), which may
/// arrive before or after the cancel's.</para>
/// <para><b>Disposal.</b> <see cref="DrainForDispose"/> cancels everything and keeps entering the kernel until every
/// operation's own CQE has arrived and every internal poll is gone, so buffers are unpinned only once the kernel is done
/// with them. Called on a thread that is not the SINGLE_ISSUER owner (EEXIST) with nothing in flight, it simply closes the
/// ring: only polls on the loop's own fds remain, and they reference no memory of ours. With operations in flight and the
/// owner thread already exited, it settles them and releases everything (<see cref="ReleaseAfterOwnerExit"/> says why
/// that is sound). Otherwise, if waiting is impossible (the owner thread is alive elsewhere, or SQPOLL) or makes no
/// progress for <see cref="DrainStallLimit"/> (a bug guard), or the kernel fails mid-drain, the backend <em>abandons</em>
/// the ring: it closes the ring fd and unmaps the rings (a mapping holds a reference to the ring's file, so only then does
/// the kernel's ring-exit work cancel whatever is left and drop the requests' file references), settles the remaining
/// operations as Cancelled, and deliberately leaks their pins and the provided-buffer memory, because the owner's io-wq
/// workers may still write into them after close(2) returns. A leak is preferable to memory corruption.</para>
/// </remarks>
internal sealed unsafe partial class UringProactorBackend : ProactorBackendBase, InternalWatchTable.IKernel
{
    // ---- internal user_data: bit 63 set, tag in bits 56..62 --------------------------------------------------------
    private const ulong InternalBit = 1UL << 63;
    private const int TagShift = 56;
    private const ulong TagMask = 0x7FUL << TagShift;
    private const ulong TagWake = 1UL << TagShift;
    private const ulong TagWatch = 2UL << TagShift;
    private const ulong TagIgnore = 3UL << TagShift;
    /// <summary>The multishot POLL_ADD on the wake eventfd.</summary>
    private const ulong WakeUserData = InternalBit | TagWake;
    /// <summary>Cancel, timeout-remove and poll-remove requests: their CQEs carry nothing we act on.</summary>
    private const ulong IgnoreUserData = InternalBit | TagIgnore;

    private const uint PollIn = 0x001;                       // POLLIN
    private const int ReapBatch = 256;
    private const int MaxWatchFailures = 8;

    /// <summary>How long <see cref="DrainForDispose"/> tolerates no completion at all before abandoning the ring.</summary>
    internal static readonly TimeSpan DrainStallLimit = TimeSpan.FromSeconds(10);

    private readonly ProactorLoop _loop;
    private readonly UringRing _ring;
    private readonly EventFd _wake;
    private readonly UringCompletion[] _completions;
    private readonly bool[] _kindSupported;
    private readonly int _dispatchBudget;

    // Timespecs of TIMEOUT SQEs, one per slot, in fixed native chunks that never move (a chunk is never reallocated, so
    // a queued SQE's pointer stays valid even if the slot table grows before the SQE is submitted).
    private const int TsChunkShift = 8, TsChunkSize = 1 << TsChunkShift;
    private nint[] _timespecChunks = new nint[4];

    // Multishot bookkeeping per slot, so a stale multishot CQE can still be identified (its fd closed, its buffer
    // recycled to the right group). Written only by multishot submissions, keyed by the masked generation.
    private MultishotRecord[] _multishot = new MultishotRecord[256];

    private readonly List<UringPoolStorage?> _pools = new();       // index = buffer group id
    private readonly InternalWatchTable _watches;                  // signalfd, pidfd: multishot POLL_ADDs tagged TagWatch

    /// <summary>The backend's own state, as one set of bits.</summary>
    [Flags]
    private enum State : byte
    {
        None = 0,
        WakeArmed = 1 << 0,      // wake POLL_ADD queued or in the kernel, final CQE not yet seen
        Draining = 1 << 1,       // disposal is cancelling and reaping: nothing is re-armed
        Abandoned = 1 << 2,      // ring fd closed by AbandonRing: never touch _ring again
        Disposed = 1 << 3,
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;

    private struct MultishotRecord
    {
        public uint Generation;               // masked (31-bit) generation, as in user_data
        public OperationKind Kind;
        public int Group;                     // buffer group for a multishot receive, -1 otherwise
    }

    /// <summary>Creates the ring (disabled until its owner thread first needs the kernel) and the wake eventfd.</summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable; the message names the reactor model.</exception>
    public UringProactorBackend(ProactorLoop loop, ProactorIoDriver driver, ProactorOptions options) : base(driver)
    {
        _loop = loop;
        _watches = new InternalWatchTable(loop, InternalBit | TagWatch, this);
        int sqPollIdleMs = options.SubmissionQueuePolling ? (int)options.SubmissionQueuePollIdle.TotalMilliseconds : -1;
        _ring = options.SetupTierForTesting > 0
            ? UringRing.CreateAtTier(options.SetupTierForTesting, (uint)options.QueueDepth, (uint)options.CompletionQueueDepth, startDisabled: true, sqPollIdleMs)
            : UringRing.Create((uint)options.QueueDepth, (uint)options.CompletionQueueDepth, startDisabled: true, sqPollIdleMs);
        if (options.DisableExtArgForTesting) _ring.DisableExtArgForTesting();
        try
        {
            _wake = new EventFd();
        }
        catch
        {
            _ring.Dispose();
            throw;
        }

        _completions = new UringCompletion[(int)Math.Min(_ring.CqEntries, ReapBatch)];
        _dispatchBudget = (int)Math.Max(4096, 4 * _ring.CqEntries);

        var caps = _ring.Capabilities;
        _pollMultishot = caps.MultishotPoll && !options.SingleShotPollsForTesting;
        var ops = new bool[256];
        for (int i = 0; i < ops.Length; i++) ops[i] = caps.Supports((byte)i);
        Capabilities = new ProactorCapabilities(caps.Features, caps.SetupFlags, ops, _ring.SqEntries, _ring.CqEntries, caps.ToString());

        // Without IORING_REGISTER_PROBE (before 5.6) nothing is known: let the kernel answer -EINVAL per request.
        bool known = caps.LastOpcode >= 0;
        _kindSupported = new bool[(int)Enum.GetValues<OperationKind>().Max() + 1];
        _kindSupported[(int)OperationKind.Read] = !known || caps.Supports(UringNative.IORING_OP_READ);
        _kindSupported[(int)OperationKind.Write] = !known || caps.Supports(UringNative.IORING_OP_WRITE);
        _kindSupported[(int)OperationKind.Receive] = !known || caps.Supports(UringNative.IORING_OP_RECV);
        _kindSupported[(int)OperationKind.Send] = !known || caps.Supports(UringNative.IORING_OP_SEND);
        _kindSupported[(int)OperationKind.Accept] = !known || caps.Supports(UringNative.IORING_OP_ACCEPT);
        _kindSupported[(int)OperationKind.Connect] = !known || caps.Supports(UringNative.IORING_OP_CONNECT);
        _kindSupported[(int)OperationKind.Shutdown] = !known || caps.Supports(UringNative.IORING_OP_SHUTDOWN);
        _kindSupported[(int)OperationKind.Close] = !known || caps.Supports(UringNative.IORING_OP_CLOSE);
        _kindSupported[(int)OperationKind.Splice] = !known || caps.Supports(UringNative.IORING_OP_SPLICE);
        _kindSupported[(int)OperationKind.Timeout] = !known || caps.Supports(UringNative.IORING_OP_TIMEOUT);
        _kindSupported[(int)OperationKind.Nop] = true;
        _kindSupported[(int)OperationKind.AcceptMultishot] = known && caps.MultishotAccept;
        _kindSupported[(int)OperationKind.ReceiveMultishot] = known && caps.MultishotRecv && caps.ProvidedBufferRing;
        _kindSupported[(int)OperationKind.SendMessage] = !known || caps.Supports(UringNative.IORING_OP_SENDMSG);
        _kindSupported[(int)OperationKind.ReceiveMessage] = !known || caps.Supports(UringNative.IORING_OP_RECVMSG);
        InitFileKinds(caps, known);
        FixedFileCapacity = options.RegisteredFileSlots;
        InitZeroCopy(caps, known, options.ZeroCopySendThreshold);
    }

    public override string Name => "uring";

    /// <summary>The ring fd, the wake eventfd and the fds of the internal watches belong to the loop.</summary>
    public override bool OwnsFd(int fd) => fd == _ring.RingFd || fd == _wake.Fd || _watches.ContainsFd(fd);

    public override ProactorCapabilities Capabilities { get; }

    // Multishot recv (6.0) with IOSQE_BUFFER_SELECT from a provided-buffer ring (5.19): what ReceiveMultishot submits.
    public override bool SupportsSharedReceiveRing => _kindSupported[(int)OperationKind.ReceiveMultishot];

    // IORING_REGISTER_PBUF_RING is an io_uring_register call: under SINGLE_ISSUER only the owner may make it, and the
    // first thread that enters the ring becomes the owner. Registering before the loop ever ran would bind the ring to
    // whichever thread started a stream, so that waits for the loop thread.
    public override bool MayRegisterNow => _ring.OwnerThreadId != 0 && _ring.IsOwnerThread && !Is(State.Draining) && !Is(State.Disposed);
}
