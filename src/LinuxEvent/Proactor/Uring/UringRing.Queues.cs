using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

internal sealed unsafe partial class UringRing
{
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
        if (_sqPoll)
        {
            // The kernel's thread consumes the SQ by itself: enter only to wake it, to wait for room, or to wait for CQEs.
            flags |= SqPollEnterFlags(toSubmit);
            if (flags == 0)
                return (int)toSubmit;
        }
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
    public void Dispose() => Close(releaseBufferRings: true);

    /// <summary>
    /// Closes the ring fd and unmaps the rings like <see cref="Dispose"/>, but leaves the memory of the registered
    /// <see cref="UringBufferRing"/>s allocated for ever: for a ring abandoned while requests that may still select a
    /// buffer are in flight. Unmapping the SQ/CQ rings is safe even then (the kernel writes CQEs through its own mapping
    /// of pages it allocated), and it is what lets the kernel tear the ring down: each mapping holds a reference to the
    /// ring's file, and io_uring's release (io_ring_ctx_wait_and_kill: cancel every request, drop their file
    /// references) runs only when the last reference goes, not at close(2).
    /// </summary>
    public void CloseAbandoningBufferRings() => Close(releaseBufferRings: false);

    private void Close(bool releaseBufferRings)
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
        if (releaseBufferRings)
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
            int r = SysEnter(toSubmit, minComplete, flags, null, 0);
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
            int r = SysEnter(toSubmit, minComplete, flags, &arg, (nuint)sizeof(IoUringGeteventsArg));
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
                return 0;
            case Errno.EAGAIN: // could not allocate requests right now
            case Errno.EBUSY:  // CQ backlog (older kernels refuse to submit while overflowed CQEs are pending)
                BusyCount++;
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
}
