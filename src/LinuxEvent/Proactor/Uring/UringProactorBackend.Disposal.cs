using System.Diagnostics;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== disposal

    public override void DrainForDispose()
    {
        if (Is(State.Abandoned) || Is(State.Disposed)) return;
        Set(State.Draining, true);

        if (_ring.OwnerThreadId == 0)
        {
            // The ring was never enabled, so the kernel has seen none of the queued SQEs: nothing can be writing into
            // any buffer. Settle everything here; the unsubmitted SQEs die with the ring.
            SettleAllLocally();
            Set(State.WakeArmed, false);
            ReleaseAllWatches();
            return;
        }
        if (!_ring.KernelAcceptsThisThread)
        {
            // Only the SINGLE_ISSUER owner may enter the ring (EEXIST otherwise), and with DEFER_TASKRUN only it can
            // make the kernel post completions: there is no way to wait for anything from here (typical: the loop ran
            // on a worker thread that has exited, and Dispose is called by whoever started it).
            if (Driver.LiveCount == 0)
            {
                // Only our polls on our own eventfd / signalfd / pidfd remain; they reference no memory of ours, and
                // closing the ring (Dispose) cancels them. Nothing needs to be leaked.
                Set(State.WakeArmed, false);
                ReleaseAllWatches();
                return;
            }
            AbandonRing();
            return;
        }

        try
        {
            foreach (var op in Driver.LiveOperations())
            {
                // Cancel even if already requested: a second request is harmless (-ENOENT / -EALREADY) and covers a
                // cancel that could not be queued earlier.
                op.CancelRequested = true;
                Cancel(op);
            }
            foreach (var w in _watches.Snapshot()) w.Cancel();
            if (Is(State.WakeArmed))
            {
                IoUringSqe* sqe = NextSqe("ProactorLoop.Dispose");
                UringPrep.PollRemove(sqe, WakeUserData, IgnoreUserData);
            }

            long lastProgress = Stopwatch.GetTimestamp();
            // Only user operations hold memory the kernel may still write (pinned buffers); the loop's own polls (wake
            // eventfd, signalfd, pidfd) reference nothing managed and end when the ring is closed. Waiting for their
            // final CQEs as well made disposal stall for the full guard period whenever one was slow to arrive.
            while (Driver.LiveCount > 0)
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
        foreach (var op in Driver.LiveOperations())
        {
            op.CancelRequested = true;
            SettleFinal(op, -Errno.ECANCELED);
        }
    }

    private void ReleaseAllWatches() => _watches.ReleaseAll();

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
        if (Is(State.Abandoned)) return;
        Set(State.Abandoned, true);
        Set(State.Draining, true);
        int fd = _ring.RingFd;
        if (fd >= 0) Libc.Close(fd);
        foreach (var op in Driver.LiveOperations())
        {
            op.CancelRequested = true;
            op.Pinned = false;               // leak the pin on purpose: see above
            SettleFinal(op, -Errno.ECANCELED);
        }
        Set(State.WakeArmed, false);
        ReleaseAllWatches();
        for (int i = 0; i < _pools.Count; i++)
            if (_pools[i] is { } p) p.Disposed = true;
    }

    public override void Dispose()
    {
        if (Is(State.Disposed)) return;
        Set(State.Disposed, true);
        if (!Is(State.Abandoned))
        {
            // Closing the ring drops every registration, including provided-buffer rings; UringRing.Dispose then frees
            // their memory. Safe here: DrainForDispose reaped every request that could select a buffer.
            _ring.Dispose();
            ReleaseFileBuffers();           // the registration went with the ring: the pool's memory may go now
            for (int i = 0; i < _pools.Count; i++)
                if (_pools[i] is { } p) { p.Ring.Dispose(); p.Disposed = true; }
        }
        _pools.Clear();
        _watches.ReleaseAll();
        // Timespecs are copied by the kernel at prep time, and no further SQE will be submitted: free them.
        for (int i = 0; i < _timespecChunks.Length; i++)
        {
            if (_timespecChunks[i] != 0) NativeMemory.Free((void*)_timespecChunks[i]);
            _timespecChunks[i] = 0;
        }
        _wake.Dispose();
    }
}
