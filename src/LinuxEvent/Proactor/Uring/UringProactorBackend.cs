using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

/// <summary>
/// The io_uring completion backend of <see cref="ProactorLoop"/>: every <see cref="Operation"/> becomes one SQE whose
/// user_data is <see cref="ProactorLoop.UserDataOf"/> (slot + generation), and every CQE is routed back through
/// <see cref="ProactorLoop.Resolve"/>, so a completion for a submission that no longer exists is recognised as stale.
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
/// <para><b>Internal user_data.</b> <see cref="ProactorLoop.UserDataOf"/> never sets bit 63; this backend's own SQEs
/// (the wake poll, internal fd polls, cancel / timeout-remove / poll-remove requests) set it and carry a tag in bits
/// 56..62. None of them is ever all-ones: ulong.MaxValue is <see cref="UringRing.ReservedUserData"/>.</para>
/// <para><b>Cancellation.</b> <see cref="Cancel"/> submits IORING_OP_ASYNC_CANCEL (a timeout: IORING_OP_TIMEOUT_REMOVE)
/// keyed by the target's user_data. The cancel's own CQE (0, -ENOENT, -EALREADY) is ignored; whether the operation
/// was cancelled is decided only by the target's CQE (-ECANCELED, or its real result if it won the race), which may
/// arrive before or after the cancel's.</para>
/// <para><b>Disposal.</b> <see cref="DrainForDispose"/> cancels everything and keeps entering the kernel until every
/// operation's own CQE has arrived and every internal poll is gone, so buffers are unpinned only once the kernel is done
/// with them. Called on a thread that is not the SINGLE_ISSUER owner (EEXIST) with nothing in flight, it simply closes the
/// ring: only polls on the loop's own fds remain, and they reference no memory of ours. If waiting is impossible (a
/// non-owner thread with operations in flight) or makes no progress for <see cref="DrainStallLimit"/> (a bug guard),
/// or the kernel fails mid-drain, the backend <em>abandons</em> the ring: it closes the ring fd (the kernel's ring-exit
/// work then cancels whatever is left), settles the remaining operations as Cancelled, and deliberately leaks their
/// pins, the ring mappings and the provided-buffer memory, because the kernel may still write into them after close(2)
/// returns (ring exit runs asynchronously on a kernel workqueue). A leak is preferable to memory corruption.</para>
/// </remarks>
internal sealed unsafe class UringProactorBackend : ProactorBackendBase
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
    private readonly List<UringWatch?> _watches = new();           // index = watch id (low 24 bits of its user_data)
    private readonly Stack<int> _freeWatchIds = new();

    private bool _wakeArmed;                  // wake POLL_ADD queued or in the kernel, final CQE not yet seen
    private int _armedWatchPolls;             // watch POLL_ADDs queued or in the kernel, final CQE not yet seen
    private bool _draining;
    private bool _abandoned;                  // ring fd closed by AbandonRing: never touch _ring again
    private bool _disposed;

    private struct MultishotRecord
    {
        public uint Generation;               // masked (31-bit) generation, as in user_data
        public OperationKind Kind;
        public int Group;                     // buffer group for a multishot receive, -1 otherwise
    }

    /// <summary>Creates the ring (disabled until its owner thread first needs the kernel) and the wake eventfd.</summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable; the message names the reactor model.</exception>
    public UringProactorBackend(ProactorLoop loop, ProactorOptions options)
    {
        _loop = loop;
        _ring = UringRing.Create((uint)options.QueueDepth, (uint)options.CompletionQueueDepth, startDisabled: true);
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
        var ops = new bool[256];
        for (int i = 0; i < ops.Length; i++) ops[i] = caps.Supports((byte)i);
        Capabilities = new ProactorCapabilities(caps.Features, caps.SetupFlags, ops, _ring.SqEntries, _ring.CqEntries, caps.ToString());

        // Without IORING_REGISTER_PROBE (before 5.6) nothing is known: let the kernel answer -EINVAL per request.
        bool known = caps.LastOpcode >= 0;
        _kindSupported = new bool[(int)OperationKind.ReceiveMultishot + 1];
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
    }

    public override string Name => "uring";

    public override ProactorCapabilities Capabilities { get; }

    // ================================================================== submission

    public override void Submit(Operation op)
    {
        if (!_kindSupported[(int)op.Kind]) ThrowUnsupported(op.Kind);
        ulong ud = ProactorLoop.UserDataOf(op);
        // Everything that can throw happens before the SQE is taken: a taken SQE is always submitted.
        UringPoolStorage? pool = null;
        if (op.Kind == OperationKind.ReceiveMultishot)
        {
            pool = op.BufferPool!.Storage as UringPoolStorage
                ?? throw new ArgumentException("ProactorLoop.ReceiveMultishot: the buffer pool does not belong to this io_uring loop.");
            if (pool.Disposed) throw new ObjectDisposedException(nameof(ProvidedBufferPool));
        }
        KernelTimespec* ts = op.Kind == OperationKind.Timeout ? TimespecFor(op.Slot) : null;
        if (op.Kind is OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot) EnsureMultishotCapacity(op.Slot);

        IoUringSqe* sqe = NextSqe(KindName(op.Kind));
        switch (op.Kind)
        {
            case OperationKind.Read:
                UringPrep.Read(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, OffsetOf(op.Offset), ud);
                break;
            case OperationKind.Write:
                UringPrep.Write(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, OffsetOf(op.Offset), ud);
                break;
            case OperationKind.Receive:
                UringPrep.Recv(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, 0, ud);
                break;
            case OperationKind.Send:
                // MSG_NOSIGNAL: a peer that closed gives -EPIPE instead of a process-killing SIGPIPE.
                UringPrep.Send(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, Libc.MSG_NOSIGNAL, ud);
                break;
            case OperationKind.Accept:
                UringPrep.Accept(sqe, op.Fd, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, multishot: false, ud);
                break;
            case OperationKind.Connect:
                // The sockaddr lives in a pinned-object-heap array owned by the operation (never moves). The kernel
                // copies it at prep (io_connect_prep -> move_addr_to_kernel), so it only has to outlive the enter.
                UringPrep.Connect(sqe, op.Fd, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(op.SockAddr!)), op.SockAddrLength, ud);
                break;
            case OperationKind.Shutdown:
                UringPrep.Shutdown(sqe, op.Fd, op.Length, ud);
                break;
            case OperationKind.Close:
                UringPrep.Close(sqe, op.Fd, ud);
                break;
            case OperationKind.Splice:
                // Offsets -1: "no offset", required for the pipe end(s) and meaning "file position" for others.
                UringPrep.Splice(sqe, op.Fd, UringPrep.CurrentPosition, op.Fd2, UringPrep.CurrentPosition, (uint)op.Length, Libc.SPLICE_F_MOVE, ud);
                break;
            case OperationKind.Timeout:
                // Relative CLOCK_MONOTONIC timer, count 0 (pure timer). The kernel copies the timespec at prep
                // (__io_timeout_prep -> get_timespec64), so the per-slot block is free again once submitted.
                *ts = KernelTimespec.FromNanoseconds(op.TimeoutNs);
                UringPrep.Timeout(sqe, ts, 0, 0, ud);
                break;
            case OperationKind.Nop:
                UringPrep.Nop(sqe, ud);
                break;
            case OperationKind.AcceptMultishot:
                // No address buffer: one shared buffer would be overwritten by every accept of the stream.
                UringPrep.Accept(sqe, op.Fd, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, multishot: true, ud);
                RecordMultishot(op, -1);
                break;
            case OperationKind.ReceiveMultishot:
                UringPrep.RecvMultishot(sqe, op.Fd, pool!.Ring.GroupId, 0, ud);
                RecordMultishot(op, pool.Ring.GroupId);
                op.BufferPool!.Users++;               // released when the stream settles (SettleFinal)
                break;
            default:
                // Unreachable (every kind is handled above); keep the taken SQE harmless rather than throwing.
                UringPrep.Nop(sqe, IgnoreUserData);
                ThrowUnsupported(op.Kind);
                break;
        }
    }

    private static ulong OffsetOf(long offset) => offset < 0 ? UringPrep.CurrentPosition : (ulong)offset;

    public override void Cancel(Operation op)
    {
        if (_abandoned) return;
        IoUringSqe* sqe = NextSqe("Operation.Cancel");
        ulong target = ProactorLoop.UserDataOf(op);
        // TIMEOUT_REMOVE is the timeout's dedicated opcode (res 0 removed, -ENOENT already fired, -EALREADY firing);
        // everything else is found by ASYNC_CANCEL on user_data. Either way only the target's own CQE (-ECANCELED, or
        // its real result when it won the race) settles it; that CQE may arrive before or after the cancel's.
        if (op.Kind == OperationKind.Timeout) UringPrep.TimeoutRemove(sqe, target, 0, IgnoreUserData);
        else UringPrep.AsyncCancel(sqe, target, 0, IgnoreUserData);
    }

    public override void FlushSubmissions(string call)
    {
        // Nothing queued: no syscall. A ring no thread has driven yet is bound (SINGLE_ISSUER) to this thread here: a
        // loop later run on another thread then fails with a clear error, which beats a request that reads from
        // whatever file reuses the closed number.
        if (_abandoned || _disposed || _ring.PendingSubmissions == 0) return;
        EnsureKernelAccess(call);
        _ring.Submit();     // no wait: CQEs of what completes at once stay in the CQ until the loop reaps them
    }

    public override void CheckKernelAccess(string call)
    {
        if (_ring.OwnerThreadId != 0 && !_ring.IsOwnerThread) ThrowWrongThread(call);
    }

    /// <summary>Takes a free SQE; when the SQ is full, submits what is queued first (that needs the owner thread).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private IoUringSqe* NextSqe(string call)
    {
        if (_ring.TryGetSqe(out IoUringSqe* sqe)) return sqe;
        return NextSqeSlow(call);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private IoUringSqe* NextSqeSlow(string call)
    {
        // The SQ is full: hand the queued SQEs to the kernel now. This is a plain submit (no wait): requests that
        // complete at once post CQEs that stay in the CQ (or the NODROP overflow list) until Wait reaps them, so
        // nothing completes inline for the caller.
        EnsureKernelAccess(call);
        var backoff = new SpinWait();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            _ring.Submit();
            if (_ring.TryGetSqe(out IoUringSqe* sqe)) return sqe;
            // EAGAIN/EBUSY from io_uring_enter (request allocation failed, or an old kernel refusing submissions while
            // CQEs are backlogged): nothing was consumed. Back off briefly (spin, then yield) and retry.
            backoff.SpinOnce();
        }
        throw new LinuxEventException(Errno.EBUSY, string.Create(CultureInfo.InvariantCulture,
            $"io_uring_enter(fd={_ring.RingFd}, submit) for {call}"),
            "The submission queue is full and the kernel did not accept any queued request after 100 attempts.");
    }

    private static string KindName(OperationKind kind) => kind switch
    {
        OperationKind.Read => "ProactorLoop.Read", OperationKind.Write => "ProactorLoop.Write",
        OperationKind.Receive => "ProactorLoop.Receive", OperationKind.Send => "ProactorLoop.Send",
        OperationKind.Accept => "ProactorLoop.Accept", OperationKind.Connect => "ProactorLoop.Connect",
        OperationKind.Shutdown => "ProactorLoop.Shutdown", OperationKind.Close => "ProactorLoop.Close",
        OperationKind.Splice => "ProactorLoop.Splice", OperationKind.Timeout => "ProactorLoop.Timeout",
        OperationKind.Nop => "ProactorLoop.Nop", OperationKind.AcceptMultishot => "ProactorLoop.AcceptMultishot",
        OperationKind.ReceiveMultishot => "ProactorLoop.ReceiveMultishot", _ => "ProactorLoop operation",
    };

    /// <summary>
    /// Makes sure the calling thread may enter the kernel: enables the ring on it if nobody has yet (it becomes the
    /// SINGLE_ISSUER submitter), otherwise checks it is that thread.
    /// </summary>
    private void EnsureKernelAccess(string call)
    {
        if (_ring.OwnerThreadId == 0)
        {
            // IORING_REGISTER_ENABLE_RINGS binds ctx->submitter_task to the caller (io_register_enable_rings).
            _ring.Enable();
            return;
        }
        if (!_ring.IsOwnerThread) ThrowWrongThread(call);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongThread(string call)
        => throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"{call}: this proactor loop's io_uring ring belongs to managed thread {_ring.OwnerThreadId} (the first thread that drove it; IORING_SETUP_SINGLE_ISSUER makes the kernel refuse io_uring_enter/io_uring_register from any other task with EEXIST), but it is now used from managed thread {Environment.CurrentManagedThreadId}. Drive a proactor loop from one thread for its whole life, and hand work to it with Loop.Post."));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnsupported(OperationKind kind)
    {
        string need = kind switch
        {
            OperationKind.AcceptMultishot => "multishot accept (IORING_ACCEPT_MULTISHOT, Linux 5.19)",
            OperationKind.ReceiveMultishot => "multishot receive with provided-buffer rings (IORING_RECV_MULTISHOT, Linux 6.0)",
            OperationKind.Shutdown => "IORING_OP_SHUTDOWN (Linux 5.11)",
            _ => "the io_uring opcode " + KindName(kind) + " needs",
        };
        throw new LinuxEventUnsupportedException(Errno.EINVAL, KindName(kind),
            $"This kernel's io_uring lacks {need} ({_ring.Capabilities}). The reactor model (Loop.CreateReactor()) works everywhere.");
    }

    private KernelTimespec* TimespecFor(int slot)
    {
        int chunk = slot >> TsChunkShift;
        if (chunk >= _timespecChunks.Length)
            Array.Resize(ref _timespecChunks, Math.Max(chunk + 1, _timespecChunks.Length * 2));
        nint block = _timespecChunks[chunk];
        if (block == 0)
        {
            block = (nint)NativeMemory.AllocZeroed((nuint)(TsChunkSize * sizeof(KernelTimespec)));
            _timespecChunks[chunk] = block;
        }
        return (KernelTimespec*)block + (slot & (TsChunkSize - 1));
    }

    private void EnsureMultishotCapacity(int slot)
    {
        if (slot >= _multishot.Length)
            Array.Resize(ref _multishot, Math.Max(slot + 1, _multishot.Length * 2));
    }

    private void RecordMultishot(Operation op, int group)
    {
        ref var r = ref _multishot[op.Slot];
        r.Generation = op.Generation & 0x7FFF_FFFF;
        r.Kind = op.Kind;
        r.Group = group;
    }

    // ================================================================== waiting and dispatch

    public override void Wait(long timeoutNs)
    {
        if (_abandoned) return;
        EnsureKernelAccess("ProactorLoop.RunOnce/Run");
        if (!_wakeArmed && !_draining) ArmWake();
        // One io_uring_enter: submits every queued SQE and (timeout != 0) waits for at least one CQE. ETIME, EINTR,
        // EAGAIN and EBUSY are absorbed by the ring. With DEFER_TASKRUN this enter is also what runs the completions.
        if (timeoutNs == 0) _ring.Submit();
        else _ring.SubmitAndWait(timeoutNs);
        _loop.OnWaitReturned();
        ReapAndDispatch();
    }

    /// <summary>
    /// Reaps and dispatches CQEs until the CQ is empty and the kernel flags neither overflowed CQEs nor deferred task
    /// work, within a budget so a flood cannot starve timers and posts (the rest waits for the next iteration).
    /// Returns the number of CQEs dispatched.
    /// </summary>
    private int ReapAndDispatch()
    {
        int dispatched = 0;
        var batch = _completions;
        while (!_abandoned)
        {
            int n = _ring.Reap(batch);
            for (int i = 0; i < n; i++)
            {
                ref readonly var c = ref batch[i];
                Dispatch(c.UserData, c.Result, c.Flags);
            }
            dispatched += n;
            if (_abandoned || dispatched >= _dispatchBudget) break;
            if (n > 0) continue;
            // CQ empty. With IORING_FEAT_NODROP, CQEs that did not fit wait in a kernel list (IORING_SQ_CQ_OVERFLOW);
            // with DEFER_TASKRUN, finished requests wait as task work (IORING_SQ_TASKRUN). Both are only delivered by
            // an io_uring_enter with GETEVENTS; toSubmit = 0 keeps SQEs queued by callbacks for the next iteration.
            if (!_ring.KernelWorkPending) break;
            _ring.Enter(0, 0, 0);
            if (_ring.CqReady == 0) break;
        }
        return dispatched;
    }

    private void Dispatch(ulong userData, int res, uint flags)
    {
        if ((userData & InternalBit) != 0)
        {
            DispatchInternal(userData, res, flags);
            return;
        }
        var op = _loop.Resolve(userData);
        if (op is null)
        {
            DispatchStale(userData, res, flags);
            return;
        }
        bool more = (flags & UringNative.IORING_CQE_F_MORE) != 0;
        switch (op.Kind)
        {
            case OperationKind.AcceptMultishot:
                // Every CQE with res >= 0 carries a new fd that we own (installed by io_accept before posting).
                if (res >= 0) _loop.DeliverAccepted(op, res);     // closes it if the stream is no longer pending
                if (!more) SettleFinal(op, res >= 0 ? 0 : res);   // no IORING_CQE_F_MORE: the kernel ended the stream
                break;
            case OperationKind.ReceiveMultishot:
                DispatchReceiveMultishot(op, userData, res, flags, more);
                break;
            default:
                SettleFinal(op, res);
                break;
        }
    }

    private void DispatchReceiveMultishot(Operation op, ulong userData, int res, uint flags, bool more)
    {
        var storage = (UringPoolStorage)op.BufferPool!.Storage;
        if ((flags & UringNative.IORING_CQE_F_BUFFER) != 0)
        {
            // The CQE hands buffer (flags >> 16) to us whatever res is (also 0 at EOF); it must go back exactly once.
            var ring = storage.Ring;
            ushort bid = ring.Take(flags);
            try
            {
                if (res > 0) _loop.DeliverReceived(op, ring.GetBuffer(bid, res));
            }
            finally
            {
                ring.Recycle(bid);
            }
        }
        if (more) return;

        // The request terminated. -ENOBUFS: the group ran dry; since every buffer is recycled right after its callback,
        // they are all back now, so re-arm under the same user_data (same slot and generation) invisibly. A final CQE
        // with data (res > 0) means the kernel could not post a further F_MORE CQE (CQ overflow) and stopped the
        // multishot without an error: also re-arm. EOF (0), errors and -ECANCELED end the stream.
        if (!op.CancelRequested && !_draining && (res == -Errno.ENOBUFS || res > 0))
        {
            try
            {
                IoUringSqe* sqe = NextSqe("ProactorLoop.ReceiveMultishot (re-arm)");
                UringPrep.RecvMultishot(sqe, op.Fd, storage.Ring.GroupId, 0, userData);
                return;
            }
            catch (LinuxEventException ex)
            {
                SettleFinal(op, -ex.Errno);
                return;
            }
        }
        // A cancelled stream that ended by running dry or by overflow reports Cancelled: ENOBUFS is an internal detail.
        if (op.CancelRequested && (res == -Errno.ENOBUFS || res > 0)) res = -Errno.ECANCELED;
        SettleFinal(op, res);
    }

    /// <summary>Settles an operation for good (its final CQE), releasing a multishot receive's hold on its pool.</summary>
    private void SettleFinal(Operation op, int res)
    {
        if (op.State != OperationState.Pending) return;
        // ERESTARTSYS (512), ERESTARTNOINTR (513), ERESTARTNOHAND (514), ERESTART_RESTARTBLOCK (516) are kernel-internal
        // "restart the syscall" codes. A request running on an io-wq worker that io_uring interrupts to cancel it
        // (io_wq_cancel_cb signals the worker) can complete with one of them, e.g. a splice blocked on a pipe: there is
        // no syscall to restart, so report what userspace would have seen, EINTR (Cancelled when cancel was requested).
        if (res is -512 or -513 or -514 or -516) res = -Errno.EINTR;
        if (op.Kind == OperationKind.ReceiveMultishot) op.BufferPool!.Users--;
        _loop.Settle(op, res);
    }

    /// <summary>
    /// A CQE whose submission is gone. Only a multishot request can produce one (single-shot requests settle on their
    /// only CQE); never throws: closes an accepted fd and returns a selected buffer so neither leaks.
    /// </summary>
    private void DispatchStale(ulong userData, int res, uint flags)
    {
        int slot = (int)(uint)userData;
        uint gen = (uint)(userData >> 32) & 0x7FFF_FFFF;
        bool known = (uint)slot < (uint)_multishot.Length && _multishot[slot].Generation == gen && gen != 0;
        var kind = known ? _multishot[slot].Kind : OperationKind.Nop;
        if (kind == OperationKind.AcceptMultishot && res >= 0)
        {
            Libc.Close(res);
            return;
        }
        if ((flags & UringNative.IORING_CQE_F_BUFFER) != 0 && kind == OperationKind.ReceiveMultishot)
        {
            int group = _multishot[slot].Group;
            if ((uint)group < (uint)_pools.Count && _pools[group] is { Disposed: false } pool)
            {
                try
                {
                    pool.Ring.Recycle(pool.Ring.Take(flags));
                }
                catch (InvalidOperationException) { }       // already ours (duplicate): leave it rather than double-recycle
                catch (ArgumentException) { }
            }
        }
    }

    private void DispatchInternal(ulong userData, int res, uint flags)
    {
        bool more = (flags & UringNative.IORING_CQE_F_MORE) != 0;
        switch (userData & TagMask)
        {
            case TagWake:
                // Reset the eventfd counter: Loop allows at most one Wake per drain cycle, so it never overflows.
                _wake.Drain();
                if (!more)
                {
                    _wakeArmed = false;
                    if (!_draining) ArmWake();     // a multishot poll can end (overflow, error): keep one armed
                }
                break;
            case TagWatch:
                DispatchWatch(userData, res, more);
                break;
            default:
                // TagIgnore: ASYNC_CANCEL (0 / -ENOENT / -EALREADY), TIMEOUT_REMOVE, POLL_REMOVE results. The targets
                // settle through their own CQEs.
                break;
        }
    }

    private void ArmWake()
    {
        // Multishot POLL_ADD (IORING_POLL_ADD_MULTI, 5.13): one CQE with IORING_CQE_F_MORE per wakeup of the eventfd's
        // wait queue. If the counter is already non-zero when the poll is armed, the arming vfs_poll() sees POLLIN and
        // a CQE is posted at once, so a Wake() that happened before arming is never lost.
        IoUringSqe* sqe = NextSqe("ProactorLoop wake poll");
        UringPrep.PollAdd(sqe, _wake.Fd, PollIn, multishot: true, WakeUserData);
        _wakeArmed = true;
    }

    public override void Wake() => _wake.Signal();

    // ================================================================== internal fd watches (signalfd, pidfd)

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (_abandoned || _disposed) throw new ObjectDisposedException(nameof(ProactorLoop));
        int id;
        if (_freeWatchIds.Count > 0) id = _freeWatchIds.Pop();
        else
        {
            id = _watches.Count;
            if (id >= 1 << 24) throw new InvalidOperationException("Too many internal fd watches.");
            _watches.Add(null);
        }
        var w = new UringWatch(this, id, fd, callback, state);
        _watches[id] = w;
        try
        {
            ArmWatch(w);
        }
        catch
        {
            ReleaseWatch(w);
            throw;
        }
        return w;
    }

    private void ArmWatch(UringWatch w)
    {
        // Multishot POLL_ADD for POLLIN. io_uring's multishot poll posts one CQE per wakeup (EPOLLET is implied unless
        // IORING_POLL_ADD_LEVEL), and arming it on an fd that is already readable posts a CQE at once. The loop's
        // consumers read until EAGAIN (signalfd) or act once (pidfd), so this gives them level semantics: nothing
        // readable is left unreported.
        IoUringSqe* sqe = NextSqe("ProactorLoop internal fd watch");
        UringPrep.PollAdd(sqe, w.Fd, PollIn, multishot: true, w.UserData);
        w.Armed = true;
        _armedWatchPolls++;
    }

    private void DispatchWatch(ulong userData, int res, bool more)
    {
        int id = (int)(userData & 0xFF_FFFF);
        if ((uint)id >= (uint)_watches.Count || _watches[id] is not { } w || w.UserData != userData) return;   // stale

        if (!w.Cancelled && res > 0)
        {
            w.Failures = 0;
            _loop.Invoke(w.Callback, w.State);    // may Cancel the watch (the pidfd watcher closes its fd in here)
        }
        if (more) return;

        w.Armed = false;
        _armedWatchPolls--;
        if (w.Cancelled || _draining)
        {
            ReleaseWatch(w);
            return;
        }
        // Still watched but the multishot poll ended (CQ overflow or an error): re-arm, unless it keeps failing.
        if (res < 0 && ++w.Failures >= MaxWatchFailures)
        {
            w.Cancelled = true;
            ReleaseWatch(w);
            _loop.ReportException(new LinuxEventException(-res, string.Create(CultureInfo.InvariantCulture,
                $"io_uring POLL_ADD(fd={w.Fd}, POLLIN)"), "The loop stopped watching this internal fd after repeated failures."));
            return;
        }
        try
        {
            ArmWatch(w);
        }
        catch (Exception ex)
        {
            w.Cancelled = true;
            ReleaseWatch(w);
            _loop.ReportException(ex);
        }
    }

    private void CancelWatch(UringWatch w)
    {
        if (w.Cancelled) return;
        w.Cancelled = true;
        if (_abandoned || _disposed) return;
        if (!w.Armed)
        {
            ReleaseWatch(w);
            return;
        }
        // Loop disposal cancels adaptor watches first and may run on a thread that is not the ring's owner; it must
        // not throw there (a full SQ would need an enter). Closing the ring in DrainForDispose/Dispose ends the poll.
        if (_ring.OwnerThreadId != 0 && !_ring.IsOwnerThread && _ring.SqSpaceLeft == 0) return;
        // POLL_REMOVE keyed on the poll's user_data; the poll's own final CQE (-ECANCELED, no F_MORE) releases the
        // entry. Until then later CQEs for it are ignored (Cancelled), e.g. after the pidfd watcher closed its fd: the
        // poll holds its own file reference, so closing the fd number does not end it.
        IoUringSqe* sqe = NextSqe("ProactorLoop internal fd watch cancel");
        UringPrep.PollRemove(sqe, w.UserData, IgnoreUserData);
    }

    private void ReleaseWatch(UringWatch w)
    {
        if (w.Released) return;
        w.Released = true;
        if ((uint)w.Id < (uint)_watches.Count && ReferenceEquals(_watches[w.Id], w))
        {
            _watches[w.Id] = null;
            _freeWatchIds.Push(w.Id);
        }
    }

    private sealed class UringWatch : InternalWatch
    {
        private static uint s_generation;
        private readonly UringProactorBackend _owner;
        public readonly int Id;
        public readonly int Fd;
        public readonly ulong UserData;
        public readonly Action<object?> Callback;
        public readonly object? State;
        public bool Armed, Cancelled, Released;
        public int Failures;

        public UringWatch(UringProactorBackend owner, int id, int fd, Action<object?> callback, object? state)
        {
            _owner = owner;
            Id = id;
            Fd = fd;
            Callback = callback;
            State = state;
            // A fresh generation per watch, so a late CQE of a released id never reaches its successor.
            uint gen = Interlocked.Increment(ref s_generation);
            UserData = InternalBit | TagWatch | ((ulong)gen << 24) | (uint)id;
        }

        public override void Cancel() => _owner.CancelWatch(this);
    }

    // ================================================================== provided-buffer pools

    public override ProvidedBufferPool CreateBufferPool(int count, int size)
    {
        if (_abandoned || _disposed) throw new ObjectDisposedException(nameof(ProactorLoop));
        if (!Capabilities.Supports(UringNative.IORING_OP_SOCKET))
            throw new LinuxEventUnsupportedException(Errno.EINVAL, "ProactorLoop.CreateBufferPool",
                $"Provided-buffer rings need Linux 5.19 or later ({_ring.Capabilities}).");
        // IORING_REGISTER_PBUF_RING is an io_uring_register call: the SINGLE_ISSUER owner only.
        EnsureKernelAccess("ProactorLoop.CreateBufferPool");
        int gid = _pools.IndexOf(null);
        if (gid < 0)
        {
            gid = _pools.Count;
            if (gid > ushort.MaxValue) throw new InvalidOperationException("ProactorLoop.CreateBufferPool: all 65536 buffer group ids are in use.");
            _pools.Add(null);
        }
        var ring = _ring.RegisterBufferRing((ushort)gid, count, size);
        var storage = new UringPoolStorage(this, ring);
        _pools[gid] = storage;
        return new ProvidedBufferPool(_loop, (ushort)gid, count, size, storage);
    }

    private void DisposePool(UringPoolStorage storage)
    {
        if (storage.Disposed) return;
        if (_abandoned)
        {
            // The ring fd is closed but the kernel may still be tearing it down: keep the memory (deliberate leak).
            storage.Disposed = true;
            return;
        }
        if (!_ring.IsDisposed) EnsureKernelAccess("ProvidedBufferPool.Dispose");   // IORING_UNREGISTER_PBUF_RING
        storage.Ring.Dispose();           // after the ring's own disposal this only frees the memory
        storage.Disposed = true;
        int gid = storage.Ring.GroupId;
        if (gid < _pools.Count && ReferenceEquals(_pools[gid], storage)) _pools[gid] = null;
    }

    private sealed class UringPoolStorage(UringProactorBackend owner, UringBufferRing ring) : BufferPoolStorage
    {
        public readonly UringBufferRing Ring = ring;
        public bool Disposed;
        public override Span<byte> Buffer(ushort id, int length) => Ring.GetBuffer(id, length);
        public override void Recycle(ushort id) => Ring.Recycle(id);
        public override void Dispose() => owner.DisposePool(this);
    }

    // ================================================================== disposal

    public override void DrainForDispose()
    {
        if (_abandoned || _disposed) return;
        _draining = true;

        if (_ring.OwnerThreadId == 0)
        {
            // The ring was never enabled, so the kernel has seen none of the queued SQEs: nothing can be writing into
            // any buffer. Settle everything here; the unsubmitted SQEs die with the ring.
            SettleAllLocally();
            _wakeArmed = false;
            ReleaseAllWatches();
            return;
        }
        if (!_ring.IsOwnerThread)
        {
            // Only the SINGLE_ISSUER owner may enter the ring (EEXIST otherwise), and with DEFER_TASKRUN only it can
            // make the kernel post completions: there is no way to wait for anything from here (typical: the loop ran
            // on a worker thread that has exited, and Dispose is called by whoever started it).
            if (_loop.LiveOperationCount == 0)
            {
                // Only our polls on our own eventfd / signalfd / pidfd remain; they reference no memory of ours, and
                // closing the ring (Dispose) cancels them. Nothing needs to be leaked.
                _wakeArmed = false;
                ReleaseAllWatches();
                return;
            }
            AbandonRing();
            return;
        }

        try
        {
            foreach (var op in _loop.LiveOperations())
            {
                // Cancel even if already requested: a second request is harmless (-ENOENT / -EALREADY) and covers a
                // cancel that could not be queued earlier.
                op.CancelRequested = true;
                Cancel(op);
            }
            for (int i = 0; i < _watches.Count; i++)
                if (_watches[i] is { } w) CancelWatch(w);
            if (_wakeArmed)
            {
                IoUringSqe* sqe = NextSqe("ProactorLoop.Dispose");
                UringPrep.PollRemove(sqe, WakeUserData, IgnoreUserData);
            }

            long lastProgress = Stopwatch.GetTimestamp();
            // Only user operations hold memory the kernel may still write (pinned buffers); the loop's own polls (wake
            // eventfd, signalfd, pidfd) reference nothing managed and end when the ring is closed. Waiting for their
            // final CQEs as well made disposal stall for the full guard period whenever one was slow to arrive.
            while (_loop.LiveOperationCount > 0)
            {
                _ring.SubmitAndWait(100_000_000);          // 100 ms slices, so the stall guard below gets to run
                if (ReapAndDispatch() > 0)
                {
                    lastProgress = Stopwatch.GetTimestamp();
                    continue;
                }
                if (Stopwatch.GetElapsedTime(lastProgress) >= DrainStallLimit)
                {
                    // Guard against a bug-induced endless wait (every real request completes once cancelled: reads on
                    // regular files finish, io-wq workers blocked in splice are signalled and return -EINTR).
                    AbandonRing();
                    return;
                }
            }
        }
        catch
        {
            // A kernel error mid-drain: never leave the kernel holding unpinned memory.
            AbandonRing();
            throw;
        }
    }

    /// <summary>Settles every live operation as Cancelled without the kernel (only valid when it never saw them).</summary>
    private void SettleAllLocally()
    {
        foreach (var op in _loop.LiveOperations())
        {
            op.CancelRequested = true;
            SettleFinal(op, -Errno.ECANCELED);
        }
    }

    private void ReleaseAllWatches()
    {
        for (int i = 0; i < _watches.Count; i++)
        {
            if (_watches[i] is not { } w) continue;
            w.Cancelled = true;
            w.Armed = false;
            ReleaseWatch(w);
        }
        _armedWatchPolls = 0;
    }

    /// <summary>
    /// Last resort when the kernel cannot be waited for: closes the ring fd (the kernel's io_ring_exit_work then
    /// cancels every remaining request, asynchronously), settles every live operation as Cancelled so each callback
    /// still runs once, and deliberately leaks each operation's pin (the MemoryHandle is dropped undisposed, so a
    /// managed buffer stays pinned for the life of the process), the ring mappings and the provided-buffer memory:
    /// the kernel may still write into them after close(2) returns. Afterwards the ring object is never touched again
    /// (its fd number may be reused by the process).
    /// </summary>
    private void AbandonRing()
    {
        if (_abandoned) return;
        _abandoned = true;
        _draining = true;
        int fd = _ring.RingFd;
        if (fd >= 0) Libc.Close(fd);
        foreach (var op in _loop.LiveOperations())
        {
            op.CancelRequested = true;
            op.Pinned = false;               // leak the pin on purpose: see above
            SettleFinal(op, -Errno.ECANCELED);
        }
        _wakeArmed = false;
        ReleaseAllWatches();
        for (int i = 0; i < _pools.Count; i++)
            if (_pools[i] is { } p) p.Disposed = true;
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_abandoned)
        {
            // Closing the ring drops every registration, including provided-buffer rings; UringRing.Dispose then frees
            // their memory. Safe here: DrainForDispose reaped every request that could select a buffer.
            _ring.Dispose();
            for (int i = 0; i < _pools.Count; i++)
                if (_pools[i] is { } p) { p.Ring.Dispose(); p.Disposed = true; }
        }
        _pools.Clear();
        _watches.Clear();
        // Timespecs are copied by the kernel at prep time, and no further SQE will be submitted: free them.
        for (int i = 0; i < _timespecChunks.Length; i++)
        {
            if (_timespecChunks[i] != 0) NativeMemory.Free((void*)_timespecChunks[i]);
            _timespecChunks[i] = 0;
        }
        _wake.Dispose();
    }
}
