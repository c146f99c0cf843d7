using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== disposal

    internal override bool AbandonedAtDispose => Is(State.Abandoned);

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
            if (OwnerHasExited())
            {
                ReleaseAfterOwnerExit();
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

    /// <summary>How long disposal off the owner thread waits for the owner's kernel task to finish exiting (a joined
    /// thread's task is usually gone already; Join can return a moment before the kernel has reaped it).</summary>
    internal static readonly TimeSpan OwnerExitWait = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// True once the owner's kernel task is gone (its /proc/self/task entry removed), waiting at most
    /// <see cref="OwnerExitWait"/>. Never with SQPOLL: there the kernel's SQ thread, not the owner, issues requests and
    /// runs their task work, and it lives until the ring is torn down. A reused tid only makes this answer false (the
    /// safe side: the ring is abandoned).
    /// </summary>
    private bool OwnerHasExited()
    {
        int tid = _ring.OwnerTaskId;
        if (tid <= 0 || _ring.SqPoll) return false;
        string entry = string.Create(CultureInfo.InvariantCulture, $"/proc/self/task/{tid}");
        long start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (Directory.Exists(entry))
        {
            if (Stopwatch.GetElapsedTime(start) >= OwnerExitWait) return false;
            spin.SpinOnce(sleep1Threshold: 20);
        }
        return true;
    }

    /// <summary>
    /// Disposal off the owner thread after the owner thread has exited: releases everything, leaking nothing. Sound
    /// because, once the SINGLE_ISSUER submitter task is gone, nothing can write into the loop's memory any more:
    /// <list type="bullet">
    /// <item>the task's exit (do_exit → io_uring_files_cancel → io_uring_cancel_generic → io_uring_clean_tctx →
    /// io_wq_put_and_exit) stopped and waited for its io-wq workers, the only other threads that run its requests with
    /// our address space;</item>
    /// <item>the requests still pending (poll-armed receives and accepts: exit cancels only "tracked" ones) complete
    /// through task work, which under DEFER_TASKRUN only the submitter runs (io_allowed_defer_tw_run); once the ring is
    /// released, io_ring_exit_work hands it to the fallback kworker, where io_should_terminate_tw() holds (PF_KTHREAD,
    /// dying ctx refs) and each request fails with -ECANCELED without touching user memory;</item>
    /// <item>a provided-buffer ring's slots were pinned by the kernel at registration and are read through its own
    /// mapping; the buffers themselves are written only by copy_to_user in a task of ours.</item>
    /// </list>
    /// So: settle every operation as Cancelled (callbacks run once, pins are released), then <see cref="Dispose"/>
    /// closes and unmaps the ring, which makes the kernel cancel the leftovers and drop their file references (the
    /// sockets under pending receives really close), and frees the provided buffers.
    /// </summary>
    private void ReleaseAfterOwnerExit()
    {
        SettleAllLocally();
        Set(State.WakeArmed, false);
        ReleaseAllWatches();
    }

    /// <summary>Settles every live operation as Cancelled without the kernel (only valid when the kernel never saw them,
    /// or can no longer touch their memory: see <see cref="ReleaseAfterOwnerExit"/>).</summary>
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
    /// Last resort when the kernel cannot be waited for and may still write into our memory (the owner thread is alive
    /// but not here, SQPOLL, the stall guard, a kernel error mid-drain): closes the ring fd and unmaps the rings, so the
    /// kernel releases the ring (io_ring_exit_work cancels every remaining request, asynchronously, and drops their
    /// file references), settles every live operation as Cancelled so each callback still runs once, and deliberately
    /// leaks each operation's pin (the MemoryHandle is dropped undisposed, so a managed buffer stays pinned for the
    /// life of the process) and the provided-buffer memory: an io-wq worker of a live owner may still write into them
    /// after close(2) returns. Afterwards the ring object is never touched again.
    /// </summary>
    private void AbandonRing()
    {
        if (Is(State.Abandoned)) return;
        Set(State.Abandoned, true);
        Set(State.Draining, true);
        // Close and unmap (each mapping holds a reference to the ring's file: closing the fd alone would leave the ring
        // alive, its pending requests holding their sockets open), leaving the provided-buffer memory allocated.
        _ring.CloseAbandoningBufferRings();
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
