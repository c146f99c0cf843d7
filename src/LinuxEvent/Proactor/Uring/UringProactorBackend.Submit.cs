using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== submission

    public override void Submit(Operation op)
    {
        if (!_kindSupported[(int)op.Kind]) ThrowUnsupported(op.Kind);
        ulong ud = ProactorIoDriver.UserDataOf(op);
        // Everything that can throw happens before the SQE is taken: a taken SQE is always submitted.
        UringPoolStorage? pool = null;
        if (op.Kind == OperationKind.ReceiveMultishot)
        {
            pool = op.BufferPool!.Storage as UringPoolStorage
                ?? throw new ArgumentException("ProactorLoop.ReceiveMultishot: the buffer pool does not belong to this io_uring loop.");
            if (pool.Disposed) throw new ObjectDisposedException(nameof(ProvidedBufferPool));
        }
        KernelTimespec* ts = op.Kind == OperationKind.Timeout ? TimespecFor(op.Slot) : null;
        KernelTimespec* linkTs = op.LinkTimeoutNs >= 0 ? PrepareLinkTimeout(op) : null;
        if (op.Kind is OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot) EnsureMultishotCapacity(op.Slot);

        IoUringSqe* sqe = NextSqe(IoNames.ProactorCall(op.Kind));
        switch (op.Kind)
        {
            case OperationKind.Read:
                PrepRead(sqe, op, ud);          // READ_FIXED inside a registered file buffer (UringProactorBackend.FixedBuffers.cs)
                break;
            case OperationKind.Write:
                PrepWrite(sqe, op, ud);
                break;
            case OperationKind.Receive:
                UringPrep.Recv(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, 0, ud);
                break;
            case OperationKind.Send:
                PrepSend(sqe, op, ud);          // SEND, or SEND_ZC from the threshold on (UringProactorBackend.ZeroCopy.cs)
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
            case OperationKind.SendMessage:
                // The msghdr, iovec, sockaddr and SCM_RIGHTS buffer live in the operation's pinned MessageBlock until the
                // CQE; the iovec now points at the buffer Submit pinned. MSG_NOSIGNAL as for Send.
                op.Message!.ArmSend((byte*)op.Pin.Pointer, op.Length);
                UringPrep.SendMsg(sqe, op.Fd, op.Message.Header, Libc.MSG_NOSIGNAL, ud);
                break;
            case OperationKind.ReceiveMessage:
                // Received fds are installed close-on-exec (MSG_CMSG_CLOEXEC reaches scm_detach_fds through msg_flags).
                op.Message!.ArmReceive((byte*)op.Pin.Pointer, op.Length);
                UringPrep.RecvMsg(sqe, op.Fd, op.Message.Header, Libc.MSG_CMSG_CLOEXEC, ud);
                break;
            case OperationKind.ReadV or OperationKind.WriteV or OperationKind.Fsync or OperationKind.Fdatasync
                or OperationKind.OpenAt or OperationKind.Statx or OperationKind.Fallocate:
                PrepFile(sqe, op, ud);
                break;
            default:
                // Unreachable (every kind is handled above); keep the taken SQE harmless rather than throwing.
                UringPrep.Nop(sqe, IgnoreUserData);
                ThrowUnsupported(op.Kind);
                break;
        }
        if (op.FixedFile >= 0)                  // a LoopFd's registered file (UringProactorBackend.FixedFiles.cs)
        {
            sqe->fd = op.FixedFile;
            sqe->flags |= UringNative.IOSQE_FIXED_FILE;
        }
        if (op.ChainNext is not null) sqe->flags |= UringNative.IOSQE_IO_LINK;     // a chain step (UringProactorBackend.Links.cs)
        if (linkTs != null) LinkTimeoutAfter(sqe, op, linkTs);
    }

    private static ulong OffsetOf(long offset) => offset < 0 ? UringPrep.CurrentPosition : (ulong)offset;

    public override void Cancel(Operation op)
    {
        if (Is(State.Abandoned)) return;
        IoUringSqe* sqe = NextSqe("Operation.Cancel");
        ulong target = ProactorIoDriver.UserDataOf(op);
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
        if (Is(State.Abandoned) || Is(State.Disposed) || _ring.PendingSubmissions == 0) return;
        EnsureKernelAccess(call);
        _ring.Submit();     // no wait: CQEs of what completes at once stay in the CQ until the loop reaps them
        _ring.WaitForSqConsumed(call);      // SQPOLL: published is not issued; the fd may be closed next
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
        _ring.Submit();
        if (_ring.TryGetSqe(out IoUringSqe* sqe)) return sqe;
        return NextSqeAfterBusy(call);
    }

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
        // Disposal may drain from the disposing thread when the kernel allows it (no SINGLE_ISSUER): it is the last
        // user of the ring, and draining beats abandoning the pins.
        if (!_ring.IsOwnerThread && !(Is(State.Draining) && _ring.KernelAcceptsThisThread)) ThrowWrongThread(call);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongThread(string call)
        => throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"{call}: this proactor loop's io_uring ring belongs to managed thread {_ring.OwnerThreadId} (the first thread that drove it; {(_ring.SingleIssuer ? "IORING_SETUP_SINGLE_ISSUER makes the kernel refuse io_uring_enter/io_uring_register from any other task with EEXIST" : "this kernel's ring is not SINGLE_ISSUER, but the loop keeps the same one-thread rule")}), but it is now used from managed thread {Environment.CurrentManagedThreadId}. Drive a proactor loop from one thread for its whole life, and hand work to it with Loop.Post."));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnsupported(OperationKind kind)
    {
        string need = kind switch
        {
            OperationKind.AcceptMultishot => "multishot accept (IORING_ACCEPT_MULTISHOT, Linux 5.19)",
            OperationKind.ReceiveMultishot => "multishot receive with provided-buffer rings (IORING_RECV_MULTISHOT, Linux 6.0)",
            OperationKind.Shutdown => "IORING_OP_SHUTDOWN (Linux 5.11)",
            _ when FileOpcodeName(kind) is { } file => file,
            _ => "the io_uring opcode " + IoNames.ProactorCall(kind) + " needs",
        };
        throw new LinuxEventUnsupportedException(Errno.EINVAL, IoNames.ProactorCall(kind),
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
}
