using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== waiting and dispatch

    public override void Wait(long timeoutNs)
    {
        if (Is(State.Abandoned)) return;
        EnsureKernelAccess("ProactorLoop.RunOnce/Run");
        if (!Is(State.WakeArmed) && !Is(State.Draining)) ArmWake();
        // One io_uring_enter: submits every queued SQE and (timeout != 0) waits for at least one CQE. ETIME, EINTR,
        // EAGAIN and EBUSY are absorbed by the ring. With DEFER_TASKRUN this enter is also what runs the completions.
        long busy = _ring.BusyCount;
        if (timeoutNs == 0) _ring.Submit();
        else _ring.SubmitAndWait(timeoutNs);
        _loop.OnWaitReturned();
        int dispatched = ReapAndDispatch();
        if (_ring.BusyCount != busy && dispatched == 0) WaitOutBusyKernel(timeoutNs);
        var metrics = _loop.Metrics;
        metrics.RingOverflows = _ring.OverflowsSeen;
        metrics.RingBusy = _ring.BusyCount;
    }

    /// <summary>
    /// Reaps and dispatches CQEs until the CQ is empty and the kernel flags neither overflowed CQEs nor deferred task
    /// work, within a budget so a flood cannot starve timers and posts (the rest waits for the next iteration).
    /// Returns the number of CQEs dispatched.
    /// </summary>
    private int ReapAndDispatch()
    {
        int dispatched = DispatchStash();
        var batch = _completions;
        while (!Is(State.Abandoned))
        {
            int n = _ring.Reap(batch);
            for (int i = 0; i < n; i++)
            {
                ref readonly var c = ref batch[i];
                // The CQ head is already past this batch: an exception escaping one completion must not lose the rest.
                // Callbacks are isolated where they run; this guards the backend's own handling (a re-arm, a recycle).
                try { Dispatch(c.UserData, c.Result, c.Flags); }
                catch (Exception ex) { Driver.ReportOrCollect(ex); }
            }
            dispatched += n;
            if (Is(State.Abandoned) || dispatched >= _dispatchBudget) break;
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

    /// <summary>Multishot receives re-armed after the kernel ended them (ENOBUFS or CQ overflow): for tests and diagnostics.</summary>
    internal long MultishotRearms { get; private set; }

    /// <summary>Test seam: runs before each completion is dispatched (a test makes it throw to check isolation).</summary>
    internal Action<ulong>? DispatchHookForTesting { get; set; }

    private void Dispatch(ulong userData, int res, uint flags)
    {
        DispatchHookForTesting?.Invoke(userData);
        if ((userData & InternalBit) != 0)
        {
            DispatchInternal(userData, res, flags);
            return;
        }
        var op = Driver.Resolve(userData);
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
                if (res >= 0) Driver.DeliverAccepted(op, res);     // closes it if the stream is no longer pending
                if (!more) SettleFinal(op, res >= 0 ? 0 : res);   // no IORING_CQE_F_MORE: the kernel ended the stream
                break;
            case OperationKind.ReceiveMultishot:
                DispatchReceiveMultishot(op, userData, res, flags, more);
                break;
            case OperationKind.Send when op.ZeroCopy:
                DispatchSendZc(op, userData, res, flags);     // two CQEs: the result, then the notification
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
                if (res > 0) Driver.DeliverReceived(op, ring.GetBuffer(bid, res));
            }
            finally
            {
                ring.Recycle(bid);
            }
        }
        if (more) return;

        // The request terminated. -ENOBUFS: the group ran dry. io_recv_buf_select() found no buffer in the ring when data
        // was ready (many streams share one ring, and the kernel can fill every buffer within one io_uring_enter before
        // we reap), and a multishot recv cannot post a CQE without a buffer, so the kernel ends it (no
        // IORING_CQE_F_MORE). The data stays in the socket. Every buffer is recycled right after its delivery, so by the
        // time this re-arm reaches the kernel (the next io_uring_enter, after this batch is dispatched) the buffers of
        // this batch are back: re-arm under the same user_data (same slot and generation), invisibly to the owner. A
        // final CQE with data (res > 0) means the kernel could not post a further F_MORE CQE (CQ overflow) and stopped
        // the multishot without an error: also re-arm. EOF (0), errors and -ECANCELED end the stream.
        if (!op.CancelRequested && !Is(State.Draining) && (res == -Errno.ENOBUFS || res > 0))
        {
            try
            {
                IoUringSqe* sqe = NextSqe("ProactorLoop.ReceiveMultishot (re-arm)");
                UringPrep.RecvMultishot(sqe, op.Fd, storage.Ring.GroupId, 0, userData);
                MultishotRearms++;
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
        Driver.Settle(op, res);
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
                    Set(State.WakeArmed, false);
                    if (!Is(State.Draining)) ArmWake();     // a multishot poll can end (overflow, error): keep one armed
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
        // a CQE is posted at once, so a Wake() that happened before arming is never lost. Before 5.13 the poll is
        // single-shot: its only CQE has no F_MORE, and DispatchInternal re-arms it after draining the counter (a Wake
        // in between leaves the counter non-zero, which the new poll reports at once).
        IoUringSqe* sqe = NextSqe("ProactorLoop wake poll");
        UringPrep.PollAdd(sqe, _wake.Fd, PollIn, multishot: _pollMultishot, WakeUserData);
        Set(State.WakeArmed, true);
    }

    public override void Wake() => _wake.Signal();
}
