using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

/// <summary>
/// One io_uring instance: the ring fd, the mmapped SQ ring, CQ ring and SQE array, and the memory-ordering
/// protocol with the kernel. This is the only <c>unsafe</c> code above the Native folder.
/// <para><b>Threading.</b> A ring belongs to one thread (the loop thread). Nothing here is thread-safe, and on
/// kernels with IORING_SETUP_SINGLE_ISSUER (6.0+) the kernel enforces it: since 6.1 the <em>submitter task</em> is
/// the thread that called io_uring_setup (<c>io_uring_create()</c> stores <c>ctx-&gt;submitter_task = current</c>),
/// or, for a ring created with <c>startDisabled</c>, the thread that calls <see cref="Enable"/>
/// (<c>io_register_enable_rings()</c>). (6.0 bound it to the first submitting task.) From any other thread
/// io_uring_enter and io_uring_register fail with EEXIST, reported here as a <see cref="LinuxEventException"/>
/// naming both threads. .NET maps a managed thread to one kernel task for its lifetime, so "thread" is exact.</para>
/// <para><b>DEFER_TASKRUN.</b> With IORING_SETUP_DEFER_TASKRUN (6.1+) completions that need task context
/// (anything that had to wait: socket readiness, timeouts, cancellations) are queued as task work and are
/// <em>only</em> run, and their CQEs only posted, while the submitter thread is inside io_uring_enter with
/// IORING_ENTER_GETEVENTS. A loop that stops entering the kernel sees no completions. <see cref="Submit"/> therefore
/// passes GETEVENTS whenever the kernel flags pending work (IORING_SQ_TASKRUN via IORING_SETUP_TASKRUN_FLAG) or a
/// CQ overflow, and <see cref="SubmitAndWait"/> always does.</para>
/// <para><b>Memory ordering.</b> SQEs are written in place; the SQ tail is published with a release store
/// (<see cref="Volatile.Write(ref uint, uint)"/>) only inside <see cref="Enter"/>, after every SQE write. The CQ
/// tail is read with an acquire load before CQE contents are read, and the CQ head is published with a release
/// store after they have been copied. SQ flags are read after a full fence.</para>
/// <para><b>Lifetime.</b> <see cref="Dispose"/> must not race with any other member (it unmaps memory the other
/// members dereference): the owner disposes the ring on its own thread or after that thread has left the loop.
/// There is deliberately no finalizer: freeing buffer memory the kernel may still write into would be worse
/// than a leak.</para>
/// <para>The ring fd is close-on-exec: <c>io_uring_install_fd()</c> allocates it with
/// <c>get_unused_fd_flags(O_RDWR | O_CLOEXEC)</c>; <see cref="Create"/> verifies FD_CLOEXEC and sets it if absent.</para>
/// </summary>
internal sealed unsafe partial class UringRing : IDisposable
{
    /// <summary>
    /// user_data reserved by the ring for its own internal TIMEOUT (used to bound waits on kernels without
    /// IORING_FEAT_EXT_ARG). CQEs carrying it are consumed silently by <see cref="Reap"/> and
    /// <see cref="TryPeekCqe"/>; the Operation layer must never use this value.
    /// </summary>
    public const ulong ReservedUserData = ulong.MaxValue;

    private const uint SqeSize = 64, CqeSize = 16;
    private static readonly double NsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    private int _ringFd;
    private readonly uint _setupFlags;
    private readonly uint _features;
    private readonly bool _extArgSupported;
    private bool _useExtArg;
    private readonly bool _deferTaskrun;
    private readonly bool _taskrunFlag;
    private readonly bool _singleIssuer;
    private int _ownerThreadId;
    private int _ownerTaskId;                 // kernel tid of the owner (gettid), for disposal off the owner thread
    private bool _disabled;

    // mappings
    private byte* _sqRing;
    private nuint _sqRingSize;
    private byte* _cqRing;
    private nuint _cqRingSize;
    private IoUringSqe* _sqes;
    private nuint _sqesSize;
    private KernelTimespec* _timeoutScratch;

    // SQ ring (kernel-shared words)
    private readonly uint* _kSqHead;
    private readonly uint* _kSqTail;
    private readonly uint* _kSqFlags;
    private readonly uint* _kSqDropped;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;

    // CQ ring (kernel-shared words)
    private readonly uint* _kCqHead;
    private readonly uint* _kCqTail;
    private readonly uint* _kCqOverflow;
    private readonly IoUringCqe* _cqes;
    private readonly uint _cqMask;
    private readonly uint _cqEntries;

    // local cursors
    private uint _sqeTail;         // SQEs handed out by TryGetSqe
    private uint _sqTailPublished; // last value stored to the kernel's SQ tail
    private uint _sqHeadCache;     // last kernel SQ head seen (the kernel only advances it inside io_uring_enter)
    private uint _cqHead;          // next CQE to consume (mirrors the kernel's CQ head)

    private readonly List<UringBufferRing> _bufferRings = new();

    private UringRing(int fd, in IoUringParams p, uint setupFlags, byte* sqRing, nuint sqRingSize, byte* cqRing,
        nuint cqRingSize, IoUringSqe* sqes, nuint sqesSize, KernelTimespec* timeoutScratch, UringCapabilities caps)
    {
        _ringFd = fd;
        _setupFlags = setupFlags;
        _features = p.features;
        _extArgSupported = _useExtArg = (p.features & UringNative.IORING_FEAT_EXT_ARG) != 0;
        _deferTaskrun = (setupFlags & UringNative.IORING_SETUP_DEFER_TASKRUN) != 0;
        _taskrunFlag = (setupFlags & UringNative.IORING_SETUP_TASKRUN_FLAG) != 0;
        _singleIssuer = (setupFlags & UringNative.IORING_SETUP_SINGLE_ISSUER) != 0;
        _disabled = (setupFlags & UringNative.IORING_SETUP_R_DISABLED) != 0;
        _sqPoll = (setupFlags & UringNative.IORING_SETUP_SQPOLL) != 0;
        _ownerThreadId = _disabled ? 0 : Environment.CurrentManagedThreadId;
        _ownerTaskId = _disabled ? 0 : Libc.GetTid();

        _sqRing = sqRing;
        _sqRingSize = sqRingSize;
        _cqRing = cqRing;
        _cqRingSize = cqRingSize;
        _sqes = sqes;
        _sqesSize = sqesSize;
        _timeoutScratch = timeoutScratch;

        _kSqHead = (uint*)(sqRing + p.sq_off.head);
        _kSqTail = (uint*)(sqRing + p.sq_off.tail);
        _kSqFlags = (uint*)(sqRing + p.sq_off.flags);
        _kSqDropped = (uint*)(sqRing + p.sq_off.dropped);
        _sqMask = *(uint*)(sqRing + p.sq_off.ring_mask);
        _sqEntries = *(uint*)(sqRing + p.sq_off.ring_entries);

        _kCqHead = (uint*)(cqRing + p.cq_off.head);
        _kCqTail = (uint*)(cqRing + p.cq_off.tail);
        _kCqOverflow = (uint*)(cqRing + p.cq_off.overflow);
        _cqes = (IoUringCqe*)(cqRing + p.cq_off.cqes);
        _cqMask = *(uint*)(cqRing + p.cq_off.ring_mask);
        _cqEntries = *(uint*)(cqRing + p.cq_off.ring_entries);

        _sqeTail = _sqTailPublished = _sqHeadCache = Volatile.Read(ref *_kSqTail);
        _cqHead = Volatile.Read(ref *_kCqHead);

        // SQ index array: SQEs are handed out in ring order, so an identity mapping written once means the
        // array never has to be touched on the hot path. With IORING_SETUP_NO_SQARRAY (6.6) there is no array.
        if ((setupFlags & UringNative.IORING_SETUP_NO_SQARRAY) == 0)
        {
            uint* array = (uint*)(sqRing + p.sq_off.array);
            for (uint i = 0; i < _sqEntries; i++)
                array[i] = i;
        }

        Capabilities = caps;
    }

    /// <summary>The ring fd (for io_uring_register by <see cref="UringBufferRing"/>); -1 once disposed.</summary>
    public int RingFd => _ringFd;

    /// <summary>Number of SQ entries (a power of two; may differ from the request because of rounding/CLAMP).</summary>
    public uint SqEntries => _sqEntries;

    /// <summary>Number of CQ entries (power of two; 2 × SQ entries unless set explicitly).</summary>
    public uint CqEntries => _cqEntries;

    /// <summary>IORING_FEAT_* bits reported by io_uring_setup.</summary>
    public uint Features => _features;

    /// <summary>IORING_SETUP_* flags the ring was created with.</summary>
    public uint SetupFlags => _setupFlags;

    /// <summary>Features, setup flags and supported opcodes of this kernel.</summary>
    public UringCapabilities Capabilities { get; }

    /// <summary>Managed id of the submitter thread (0 while a ring created disabled awaits <see cref="Enable"/>).</summary>
    public int OwnerThreadId => _ownerThreadId;

    /// <summary>Kernel thread id (gettid) of the owner, the task the kernel knows as the SINGLE_ISSUER submitter
    /// (0 while a ring created disabled awaits <see cref="Enable"/>).</summary>
    public int OwnerTaskId => _ownerTaskId;

    /// <summary>
    /// True when the calling thread is the ring's owner: the thread that enabled it (or created it, for a ring not
    /// created disabled). This is the loop's one-thread rule and holds with or without SINGLE_ISSUER: without it the
    /// kernel would accept any thread, but a loop promises to be driven by one thread for its whole life.
    /// </summary>
    public bool IsOwnerThread => _ownerThreadId != 0 && Environment.CurrentManagedThreadId == _ownerThreadId;

    /// <summary>True when the kernel itself lets the calling thread enter the ring: always without SINGLE_ISSUER (used
    /// where the one-thread rule may be relaxed safely, e.g. draining a ring at disposal from the disposing thread).</summary>
    public bool KernelAcceptsThisThread => !_singleIssuer || Environment.CurrentManagedThreadId == _ownerThreadId;

    /// <summary>True when the ring was created with IORING_SETUP_SINGLE_ISSUER.</summary>
    public bool SingleIssuer => _singleIssuer;

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _ringFd < 0;

    /// <summary>SQEs handed out by <see cref="TryGetSqe"/> that the kernel has not consumed yet (0 once disposed).</summary>
    public uint PendingSubmissions => _ringFd < 0 ? 0 : _sqeTail - Volatile.Read(ref *_kSqHead);

    /// <summary>Free SQ slots (<see cref="TryGetSqe"/> succeeds this many times before a submit is needed).</summary>
    public uint SqSpaceLeft => _sqEntries - PendingSubmissions;

    /// <summary>CQEs posted by the kernel and not yet consumed (acquire read of the CQ tail).</summary>
    public uint CqReady => _ringFd < 0 ? 0 : Volatile.Read(ref *_kCqTail) - _cqHead;

    /// <summary>Kernel counter of invalid SQ indexes it skipped (always 0 unless something is badly wrong).</summary>
    public uint SqDropped => _ringFd < 0 ? 0 : Volatile.Read(ref *_kSqDropped);

    /// <summary>Kernel counter of CQEs lost to overflow. Stays 0 with IORING_FEAT_NODROP unless the kernel could
    /// not allocate an overflow entry (then io_uring_enter also fails with EBADR).</summary>
    /// <summary>Times the CQ was found overflowed (IORING_SQ_CQ_OVERFLOW: completions waiting in the kernel's list).</summary>
    public long OverflowsSeen { get; private set; }

    /// <summary>io_uring_enter calls answered EAGAIN or EBUSY (the kernel could not take requests right now).</summary>
    public long BusyCount { get; internal set; }

    public uint CqOverflowCount => _ringFd < 0 ? 0 : Volatile.Read(ref *_kCqOverflow);

    /// <summary>
    /// True when the kernel holds work only an io_uring_enter with GETEVENTS will deliver: overflowed CQEs
    /// (IORING_SQ_CQ_OVERFLOW; NODROP keeps them in a kernel list until flushed into the CQ ring) or deferred task
    /// work (IORING_SQ_TASKRUN). Reads the SQ flags after a full fence so that the check is ordered after our
    /// preceding CQ head store.
    /// </summary>
    public bool KernelWorkPending
    {
        get
        {
            if (_ringFd < 0)
                return false;
            Interlocked.MemoryBarrier();
            uint flags = Volatile.Read(ref *_kSqFlags);
            if ((flags & UringNative.IORING_SQ_CQ_OVERFLOW) != 0) OverflowsSeen++;
            return (flags & (UringNative.IORING_SQ_CQ_OVERFLOW | UringNative.IORING_SQ_TASKRUN)) != 0;
        }
    }
}
