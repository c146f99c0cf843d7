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
internal sealed unsafe class UringRing : IDisposable
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
        _ownerThreadId = _disabled ? 0 : Environment.CurrentManagedThreadId;

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

    /// <summary>True when the calling thread may submit (always true without SINGLE_ISSUER).</summary>
    public bool IsOwnerThread => !_singleIssuer || Environment.CurrentManagedThreadId == _ownerThreadId;

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
            return (Volatile.Read(ref *_kSqFlags) & (UringNative.IORING_SQ_CQ_OVERFLOW | UringNative.IORING_SQ_TASKRUN)) != 0;
        }
    }

    /// <summary>
    /// Creates a ring with <paramref name="entries"/> SQ entries (rounded up to a power of two; values above
    /// 32768 are clamped) and <paramref name="cqEntries"/> CQ entries (0 = kernel default of 2 × SQ; otherwise at
    /// least <paramref name="entries"/>).
    /// <para>Setup flags are tried best-first and stepped down on EINVAL (the kernel's answer to unknown flags):
    /// NO_SQARRAY (6.6) + SINGLE_ISSUER + DEFER_TASKRUN (6.1) + COOP_TASKRUN + TASKRUN_FLAG (5.19) + SUBMIT_ALL
    /// (5.18); then without NO_SQARRAY; then without SINGLE_ISSUER/DEFER_TASKRUN; then without the task-run flags;
    /// then with none — always with CLAMP and, when <paramref name="cqEntries"/> &gt; 0, CQSIZE.</para>
    /// <para>With <paramref name="startDisabled"/> (IORING_SETUP_R_DISABLED, 5.10) the ring cannot be entered
    /// until <see cref="Enable"/> is called; the thread that calls it becomes the SINGLE_ISSUER submitter. Use
    /// this when the ring is built on one thread and driven by another.</para>
    /// </summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable (ENOSYS, EPERM, disabled by
    /// <c>kernel.io_uring_disabled</c>, blocked by seccomp) or lacks IORING_FEAT_NODROP (kernel &lt; 5.5).</exception>
    /// <exception cref="LinuxEventException">Any other failure (ENOMEM, EMFILE, mmap failure).</exception>
    public static UringRing Create(uint entries, uint cqEntries = 0, bool startDisabled = false)
        => CreateCore(entries, cqEntries, startDisabled, firstTier: 0);

    /// <summary>Number of setup-flag tiers <see cref="Create"/> steps through (see <see cref="CreateAtTier"/>).</summary>
    internal const int SetupTierCount = 5;

    /// <summary>
    /// Like <see cref="Create"/>, but starts the step-down at <paramref name="firstTier"/> (0 = best … 4 = no
    /// optional flags), so tests can exercise on a new kernel the code paths older kernels take.
    /// </summary>
    internal static UringRing CreateAtTier(int firstTier, uint entries, uint cqEntries = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstTier);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(firstTier, SetupTierCount);
        return CreateCore(entries, cqEntries, startDisabled: false, firstTier);
    }

    private static UringRing CreateCore(uint entries, uint cqEntries, bool startDisabled, int firstTier)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("The io_uring ring layout is implemented for little-endian targets only.");
        ArgumentOutOfRangeException.ThrowIfZero(entries);
        if (cqEntries != 0 && cqEntries < entries)
            throw new ArgumentOutOfRangeException(nameof(cqEntries), cqEntries,
                $"cqEntries must be 0 (default) or at least entries ({entries}); the kernel rejects a CQ smaller than the SQ.");

        uint baseFlags = UringNative.IORING_SETUP_CLAMP
            | (cqEntries != 0 ? UringNative.IORING_SETUP_CQSIZE : 0)
            | (startDisabled ? UringNative.IORING_SETUP_R_DISABLED : 0);
        const uint taskrun = UringNative.IORING_SETUP_COOP_TASKRUN | UringNative.IORING_SETUP_TASKRUN_FLAG;
        const uint single = UringNative.IORING_SETUP_SINGLE_ISSUER | UringNative.IORING_SETUP_DEFER_TASKRUN;
        ReadOnlySpan<uint> tiers =
        [
            UringNative.IORING_SETUP_NO_SQARRAY | single | taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            single | taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            UringNative.IORING_SETUP_SUBMIT_ALL,
            0,
        ];

        IoUringParams p = default;
        int fd = -1;
        uint flags = 0;
        foreach (uint tier in tiers[firstTier..])
        {
            p = default;
            flags = baseFlags | tier;
            p.flags = flags;
            p.cq_entries = cqEntries;
            fd = UringNative.Setup(entries, &p);
            if (fd >= 0)
                break;
            int errno = Libc.LastErrno;
            if (errno != Errno.EINVAL)
                throw SetupFailure(errno, entries, flags);
        }
        if (fd < 0)
            throw new LinuxEventUnsupportedException(Errno.EINVAL, SetupCall(entries, flags),
                "The kernel rejected every io_uring setup flag combination down to the minimal one; its io_uring is too old "
                + "or restricted. Use the reactor model (Loop.CreateReactor()) instead.");

        byte* sqRing = null, cqRing = null;
        IoUringSqe* sqes = null;
        nuint sqRingSize = 0, cqRingSize = 0, sqesSize = 0;
        KernelTimespec* scratch = null;
        try
        {
            if ((p.features & UringNative.IORING_FEAT_NODROP) == 0)
                throw new LinuxEventUnsupportedException(Errno.EINVAL, SetupCall(entries, flags),
                    "io_uring lacks IORING_FEAT_NODROP (kernel older than 5.5), so completions could be lost under load. "
                    + "Use the reactor model (Loop.CreateReactor()) instead.");

            EnsureCloseOnExec(fd);

            // Ring sizes as the kernel lays them out: SQ ring = header + index array; CQ ring = header + CQEs.
            // With IORING_FEAT_SINGLE_MMAP (5.4) both live in one mapping at IORING_OFF_SQ_RING, sized for the larger.
            bool noSqArray = (flags & UringNative.IORING_SETUP_NO_SQARRAY) != 0;
            cqRingSize = p.cq_off.cqes + (nuint)p.cq_entries * CqeSize;
            sqRingSize = noSqArray ? cqRingSize : p.sq_off.array + (nuint)p.sq_entries * sizeof(uint);
            bool singleMmap = (p.features & UringNative.IORING_FEAT_SINGLE_MMAP) != 0;
            if (singleMmap)
                sqRingSize = cqRingSize = Math.Max(sqRingSize, cqRingSize);

            sqRing = MapRing(fd, sqRingSize, UringNative.IORING_OFF_SQ_RING, "SQ ring");
            cqRing = singleMmap ? sqRing : MapRing(fd, cqRingSize, UringNative.IORING_OFF_CQ_RING, "CQ ring");
            sqesSize = (nuint)p.sq_entries * SqeSize;
            sqes = (IoUringSqe*)MapRing(fd, sqesSize, UringNative.IORING_OFF_SQES, "SQE array");

            scratch = (KernelTimespec*)NativeMemory.AllocZeroed((nuint)sizeof(KernelTimespec));
            var caps = Probe(fd, p.features, flags);
            return new UringRing(fd, p, flags, sqRing, sqRingSize, cqRing, cqRingSize, sqes, sqesSize, scratch, caps);
        }
        catch
        {
            if (sqes != null) Libc.Munmap(sqes, sqesSize);
            if (cqRing != null && cqRing != sqRing) Libc.Munmap(cqRing, cqRingSize);
            if (sqRing != null) Libc.Munmap(sqRing, sqRingSize);
            if (scratch != null) NativeMemory.Free(scratch);
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Enables a ring created with <c>startDisabled</c> (IORING_REGISTER_ENABLE_RINGS) and makes the calling
    /// thread its SINGLE_ISSUER submitter. Call it on the thread that will drive the ring.
    /// </summary>
    /// <exception cref="InvalidOperationException">The ring was not created disabled, or is already enabled.</exception>
    public void Enable()
    {
        ThrowIfDisposed();
        if (!_disabled)
            throw new InvalidOperationException("Enable() applies only to a ring created with startDisabled: true, once.");
        if (UringNative.Register(_ringFd, UringNative.IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
            throw new LinuxEventException(Libc.LastErrno, $"io_uring_register(fd={_ringFd}, ENABLE_RINGS)");
        _disabled = false;
        _ownerThreadId = Environment.CurrentManagedThreadId;
    }

    /// <summary>
    /// Hands out the next SQ slot, zeroed, for the caller to fill with a <see cref="UringPrep"/> helper. Returns
    /// false when the SQ is full: the caller then calls <see cref="Submit"/> (and reaps) and retries. A slot
    /// obtained here is always submitted by the next <see cref="Enter"/>; it cannot be given back, so a caller
    /// that changes its mind must fill it with <see cref="UringPrep.Nop"/>. No allocation, no syscall.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetSqe(out IoUringSqe* sqe)
    {
        ThrowIfDisposed();
        uint tail = _sqeTail;
        if (tail - _sqHeadCache >= _sqEntries)
        {
            _sqHeadCache = Volatile.Read(ref *_kSqHead);
            if (tail - _sqHeadCache >= _sqEntries)
            {
                sqe = null;
                return false;
            }
        }
        sqe = _sqes + (tail & _sqMask);
        *sqe = default;
        _sqeTail = tail + 1;
        return true;
    }

    /// <summary>
    /// One io_uring_enter: publishes the SQ tail (release), submits up to <paramref name="toSubmit"/> pending SQEs
    /// (clamped to <see cref="PendingSubmissions"/>) and, when <paramref name="minComplete"/> &gt; 0, waits until
    /// that many CQEs are available or <paramref name="timeoutNs"/> elapses (-1 = no limit; 0 = do not block).
    /// Returns the number of SQEs the kernel consumed.
    /// <para>Never throws for the expected outcomes: ETIME (wait timed out), EAGAIN/EBUSY (kernel out of request
    /// resources or CQ backlog — reap, then retry) return normally, and EINTR is retried with the remaining timeout.
    /// GETEVENTS is added whenever the kernel holds overflowed CQEs or deferred task work, so a plain submit also
    /// flushes them. The wait is skipped by the kernel if not every SQE could be submitted; callers loop anyway.</para>
    /// <para>Waits are bounded with IORING_ENTER_EXT_ARG (5.11). Without it, an internal TIMEOUT SQE with
    /// <see cref="ReservedUserData"/> is queued instead; its CQE is filtered out by the reap methods.</para>
    /// </summary>
    /// <exception cref="LinuxEventException">EEXIST (called from a thread other than the SINGLE_ISSUER submitter),
    /// EBADFD (ring still disabled), EBADR (kernel dropped CQEs), or any unexpected errno.</exception>
    public int Enter(uint toSubmit, uint minComplete, long timeoutNs)
    {
        ThrowIfDisposed();
        PublishSqTail();
        uint pending = _sqeTail - Volatile.Read(ref *_kSqHead);
        if (toSubmit > pending)
            toSubmit = pending;

        uint flags = 0;
        if (minComplete > 0 || (_deferTaskrun && !_taskrunFlag) || KernelWorkPending)
            flags = UringNative.IORING_ENTER_GETEVENTS;
        if (toSubmit == 0 && flags == 0)
            return 0;

        if (minComplete == 0 || timeoutNs < 0)
            return EnterRetrying(toSubmit, minComplete, flags);

        return _useExtArg
            ? EnterWithExtArgTimeout(toSubmit, minComplete, flags, timeoutNs)
            : EnterWithTimeoutSqe(minComplete, flags, timeoutNs);
    }

    /// <summary>Submits everything pending without blocking (and runs deferred completions / flushes overflow when
    /// the kernel flags them). No syscall at all when there is nothing to do. Returns SQEs consumed.</summary>
    public int Submit() => Enter(uint.MaxValue, 0, 0);

    /// <summary>Submits everything pending and waits for at least one CQE, up to <paramref name="timeoutNs"/>
    /// (-1 = indefinitely). Returns SQEs consumed; reap to see what completed.</summary>
    public int SubmitAndWait(long timeoutNs) => Enter(uint.MaxValue, 1, timeoutNs);

    /// <summary>
    /// Peeks at the oldest unconsumed CQE without consuming it; follow with <see cref="AdvanceCq"/>. CQEs of the
    /// ring's internal timeout (<see cref="ReservedUserData"/>) are consumed and skipped. No allocation, no syscall.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPeekCqe(out ulong userData, out int res, out uint flags)
    {
        ThrowIfDisposed();
        while (true)
        {
            uint tail = Volatile.Read(ref *_kCqTail); // acquire: CQE contents below are visible
            if (_cqHead == tail)
            {
                userData = 0;
                res = 0;
                flags = 0;
                return false;
            }
            IoUringCqe* cqe = _cqes + (_cqHead & _cqMask);
            if (cqe->user_data == ReservedUserData)
            {
                _cqHead++;
                Volatile.Write(ref *_kCqHead, _cqHead);
                continue;
            }
            userData = cqe->user_data;
            res = cqe->res;
            flags = cqe->flags;
            return true;
        }
    }

    /// <summary>Consumes <paramref name="count"/> CQEs (after <see cref="TryPeekCqe"/>), publishing the CQ head
    /// with a release store so the kernel may reuse the slots.</summary>
    public void AdvanceCq(uint count)
    {
        ThrowIfDisposed();
        if (count > Volatile.Read(ref *_kCqTail) - _cqHead)
            throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot consume more CQEs than are available.");
        _cqHead += count;
        Volatile.Write(ref *_kCqHead, _cqHead);
    }

    /// <summary>
    /// Copies up to <c>into.Length</c> CQEs into <paramref name="into"/> and releases their slots with one
    /// release store of the CQ head. Returns the number copied. Internal-timeout CQEs are skipped. No allocation,
    /// no syscall: to pick up overflowed CQEs or deferred completions call <see cref="Submit"/> (it enters only when
    /// <see cref="KernelWorkPending"/>) and reap again.
    /// </summary>
    public int Reap(Span<UringCompletion> into)
    {
        ThrowIfDisposed();
        uint head = _cqHead;
        uint tail = Volatile.Read(ref *_kCqTail); // acquire
        int n = 0;
        while (head != tail && n < into.Length)
        {
            IoUringCqe* cqe = _cqes + (head & _cqMask);
            head++;
            if (cqe->user_data == ReservedUserData)
                continue;
            into[n++] = new UringCompletion(cqe->user_data, cqe->res, cqe->flags);
        }
        if (head != _cqHead)
        {
            _cqHead = head;
            Volatile.Write(ref *_kCqHead, head); // release: slots free only after the copies above
        }
        return n;
    }

    /// <summary>
    /// Registers a provided-buffer ring of <paramref name="count"/> buffers × <paramref name="bufferSize"/> bytes
    /// as buffer group <paramref name="groupId"/> (IORING_REGISTER_PBUF_RING, 5.19). Must be called on the
    /// submitter thread. The ring tracks it and releases its memory when the ring is disposed.
    /// </summary>
    public UringBufferRing RegisterBufferRing(ushort groupId, int count, int bufferSize)
    {
        ThrowIfDisposed();
        var br = new UringBufferRing(this, groupId, count, bufferSize);
        _bufferRings.Add(br);
        return br;
    }

    internal void Forget(UringBufferRing bufferRing) => _bufferRings.Remove(bufferRing);

    /// <summary>Turns off IORING_ENTER_EXT_ARG so waits use the internal-TIMEOUT fallback of pre-5.11 kernels.
    /// For tests of that path only.</summary>
    internal void DisableExtArgForTesting() => _useExtArg = false;

    /// <summary>True when the kernel supports IORING_ENTER_EXT_ARG and it is in use.</summary>
    public bool UsesExtArg => _useExtArg && _extArgSupported;

    /// <summary>
    /// Closes the ring fd and unmaps the rings; idempotent. Closing the ring makes the kernel cancel every
    /// in-flight request and drop all registrations (including provided-buffer rings), after which the memory of
    /// the registered <see cref="UringBufferRing"/>s is freed. Precondition (see <see cref="UringBufferRing"/>):
    /// no request that selects buffers is still running on an io-wq worker, i.e. the owner has cancelled and reaped
    /// its operations first.
    /// </summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _ringFd, -1);
        if (fd < 0)
            return;
        Libc.Close(fd);
        if (_sqes != null) Libc.Munmap(_sqes, _sqesSize);
        if (_cqRing != null && _cqRing != _sqRing) Libc.Munmap(_cqRing, _cqRingSize);
        if (_sqRing != null) Libc.Munmap(_sqRing, _sqRingSize);
        _sqes = null;
        _sqRing = _cqRing = null;
        if (_timeoutScratch != null) NativeMemory.Free(_timeoutScratch);
        _timeoutScratch = null;
        foreach (var br in _bufferRings)
            br.ReleaseAfterRingClosed();
        _bufferRings.Clear();
    }

    // ---------------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_ringFd < 0)
            ThrowDisposed();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(UringRing));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishSqTail()
    {
        if (_sqTailPublished != _sqeTail)
        {
            // Release: every SQE field written before this store is visible to the kernel once it sees the tail.
            Volatile.Write(ref *_kSqTail, _sqeTail);
            _sqTailPublished = _sqeTail;
        }
    }

    private int EnterRetrying(uint toSubmit, uint minComplete, uint flags)
    {
        while (true)
        {
            int r = UringNative.Enter(_ringFd, toSubmit, minComplete, flags, null, 0);
            if (r >= 0)
                return r;
            int errno = Libc.LastErrno;
            if (errno != Errno.EINTR) // EINTR means nothing was submitted: io_uring_enter returns the count otherwise
                return EnterError(errno, toSubmit, minComplete, flags);
        }
    }

    private int EnterWithExtArgTimeout(uint toSubmit, uint minComplete, uint flags, long timeoutNs)
    {
        long start = Stopwatch.GetTimestamp();
        long remaining = timeoutNs;
        flags |= UringNative.IORING_ENTER_EXT_ARG;
        while (true)
        {
            KernelTimespec ts = KernelTimespec.FromNanoseconds(remaining);
            IoUringGeteventsArg arg = default;
            arg.ts = (ulong)&ts; // read by the kernel during this call only
            int r = UringNative.Enter(_ringFd, toSubmit, minComplete, flags, &arg, (nuint)sizeof(IoUringGeteventsArg));
            if (r >= 0)
                return r;
            int errno = Libc.LastErrno;
            if (errno != Errno.EINTR)
                return EnterError(errno, toSubmit, minComplete, flags);
            remaining = timeoutNs - (long)((Stopwatch.GetTimestamp() - start) * NsPerTick);
            if (remaining <= 0)
                return 0;
        }
    }

    private int EnterWithTimeoutSqe(uint minComplete, uint flags, long timeoutNs)
    {
        // Pre-5.11 path: a TIMEOUT with count = minComplete completes when either that many CQEs were posted or
        // the time elapsed, and so ends the GETEVENTS wait. Its timespec lives in ring-owned native memory because
        // the kernel reads it when the SQE is submitted, which may be a later io_uring_enter if this one is partial.
        if (!TryGetSqe(out IoUringSqe* sqe))
        {
            EnterRetrying(_sqeTail - Volatile.Read(ref *_kSqHead), 0, flags & ~UringNative.IORING_ENTER_GETEVENTS);
            if (!TryGetSqe(out sqe))
                return 0; // kernel could not take SQEs (EAGAIN/EBUSY): caller reaps and retries
        }
        *_timeoutScratch = KernelTimespec.FromNanoseconds(timeoutNs);
        UringPrep.Timeout(sqe, _timeoutScratch, minComplete, 0, ReservedUserData);
        PublishSqTail();
        uint toSubmit = _sqeTail - Volatile.Read(ref *_kSqHead);
        int r = EnterRetrying(toSubmit, minComplete, flags);
        return r > 0 && (uint)r == toSubmit ? r - 1 : r; // do not count the internal timeout
    }

    private int EnterError(int errno, uint toSubmit, uint minComplete, uint flags)
    {
        switch (errno)
        {
            case Errno.ETIME:  // the wait timed out: a normal outcome
            case Errno.EAGAIN: // could not allocate requests right now
            case Errno.EBUSY:  // CQ backlog (older kernels refuse to submit while overflowed CQEs are pending)
                return 0;
        }
        string call = string.Create(CultureInfo.InvariantCulture,
            $"io_uring_enter(fd={_ringFd}, to_submit={toSubmit}, min_complete={minComplete}, flags=0x{flags:x})");
        string? detail = errno switch
        {
            Errno.EEXIST => string.Create(CultureInfo.InvariantCulture,
                $"The ring uses IORING_SETUP_SINGLE_ISSUER{(_deferTaskrun ? "|DEFER_TASKRUN" : "")}: only its submitter thread "
                + $"(managed thread {_ownerThreadId}) may submit or wait, but this call came from managed thread {Environment.CurrentManagedThreadId}"),
            Errno.EBADFD => "The ring was created with startDisabled and Enable() has not been called yet",
            UringNative.EBADR => "The kernel dropped completions (it could not allocate CQ overflow entries); "
                + "operations may never settle and the ring must be torn down",
            _ => null,
        };
        throw new LinuxEventException(errno, call, detail);
    }

    private static byte* MapRing(int fd, nuint size, long offset, string what)
    {
        void* p = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (p == (void*)-1)
            throw new LinuxEventException(Libc.LastErrno, string.Create(CultureInfo.InvariantCulture,
                $"mmap(io_uring {what}, size={size}, fd={fd}, offset=0x{offset:x})"));
        return (byte*)p;
    }

    private static void EnsureCloseOnExec(int fd)
    {
        // io_uring fds are created O_CLOEXEC by the kernel (io_uring_install_fd); verify rather than assume, so a
        // child started with posix_spawn never inherits the ring.
        int fdFlags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
        if (fdFlags < 0)
            throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_GETFD)");
        if ((fdFlags & Libc.FD_CLOEXEC) == 0 && Libc.Fcntl(fd, Libc.F_SETFD, fdFlags | Libc.FD_CLOEXEC) < 0)
            throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_SETFD, FD_CLOEXEC)");
    }

    private static UringCapabilities Probe(int fd, uint features, uint setupFlags)
    {
        // IORING_REGISTER_PROBE (5.6): the buffer must be zeroed; the kernel caps nr_args at IORING_OP_LAST.
        const int MaxOps = 256;
        nuint size = (nuint)(sizeof(IoUringProbe) + MaxOps * sizeof(IoUringProbeOp));
        var probe = (IoUringProbe*)NativeMemory.AllocZeroed(size);
        try
        {
            if (UringNative.Register(fd, UringNative.IORING_REGISTER_PROBE, probe, MaxOps) < 0)
                return new UringCapabilities(features, setupFlags, ReadOnlySpan<byte>.Empty, -1);
            var ops = (IoUringProbeOp*)(probe + 1);
            Span<byte> supported = stackalloc byte[MaxOps];
            int n = 0;
            for (int i = 0; i < probe->ops_len; i++)
                if ((ops[i].flags & UringNative.IO_URING_OP_SUPPORTED) != 0)
                    supported[n++] = ops[i].op;
            return new UringCapabilities(features, setupFlags, supported[..n], probe->last_op);
        }
        finally
        {
            NativeMemory.Free(probe);
        }
    }

    private static string SetupCall(uint entries, uint flags)
        => string.Create(CultureInfo.InvariantCulture, $"io_uring_setup(entries={entries}, flags=0x{flags:x})");

    internal static LinuxEventException SetupFailure(int errno, uint entries, uint flags)
    {
        string call = SetupCall(entries, flags);
        const string Alternative = " The reactor model (Loop.CreateReactor()), which needs only epoll, works everywhere.";
        switch (errno)
        {
            case Errno.ENOSYS:
                return new LinuxEventUnsupportedException(errno, call,
                    "io_uring is unavailable: this kernel does not implement io_uring_setup (built without CONFIG_IO_URING, "
                    + "older than 5.1, or a sandbox such as gVisor or a seccomp filter answering ENOSYS)." + Alternative);
            case Errno.EPERM:
            case Errno.EACCES:
                return new LinuxEventUnsupportedException(errno, call,
                    "io_uring is unavailable: " + DescribePolicy() + Alternative);
            case Errno.ENOMEM:
                return new LinuxEventException(errno, call,
                    "Not enough locked memory for the rings (kernels before 5.12 charge them to RLIMIT_MEMLOCK); "
                    + "raise `ulimit -l` or use fewer entries.");
            default:
                return new LinuxEventException(errno, call);
        }
    }

    private static string DescribePolicy()
    {
        string? value = null;
        try
        {
            value = File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return value switch
        {
            "2" => "it is disabled system-wide (sysctl kernel.io_uring_disabled=2).",
            "1" => "it is restricted to privileged processes and members of the group in kernel.io_uring_group "
                   + "(sysctl kernel.io_uring_disabled=1), and this process is neither.",
            "0" => "the kernel allows it (kernel.io_uring_disabled=0) but this process is denied, most likely by a "
                   + "seccomp filter (container runtimes' default profiles block io_uring) or an LSM policy.",
            _ => "the process is denied, most likely by a seccomp filter (container runtimes' default profiles block "
                 + "io_uring) or an LSM policy.",
        };
    }
}
