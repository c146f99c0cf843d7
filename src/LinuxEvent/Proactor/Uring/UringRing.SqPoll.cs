using System.Diagnostics;
using System.Globalization;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

// IORING_SETUP_SQPOLL (ProactorOptions.SubmissionQueuePolling): a kernel thread polls the SQ and issues what we publish,
// so submitting costs no syscall while that thread is awake. It sleeps after sq_thread_idle ms without work and sets
// IORING_SQ_NEED_WAKEUP; io_uring_enter(IORING_ENTER_SQ_WAKEUP) wakes it. With SQPOLL, io_uring_enter's to_submit is
// ignored (the kernel returns it as is).
internal sealed unsafe partial class UringRing
{
    private readonly bool _sqPoll;

    /// <summary>True when a kernel thread consumes the SQ (IORING_SETUP_SQPOLL).</summary>
    public bool SqPoll => _sqPoll;

    /// <summary>The io_uring_enter flags SQPOLL needs for this call: SQ_WAKEUP when the thread sleeps and there is
    /// something to submit, SQ_WAIT when the SQ is full (wait for the thread to make room).</summary>
    private uint SqPollEnterFlags(uint toSubmit)
    {
        if (toSubmit == 0) return 0;
        // The tail store must be visible before NEED_WAKEUP is read (a full barrier, as liburing's io_uring_smp_mb):
        // otherwise the thread may go to sleep having missed the new tail while we read the flag as clear.
        Interlocked.MemoryBarrier();
        uint flags = 0;
        if ((Volatile.Read(ref *_kSqFlags) & UringNative.IORING_SQ_NEED_WAKEUP) != 0) flags |= UringNative.IORING_ENTER_SQ_WAKEUP;
        if (toSubmit >= _sqEntries) flags |= UringNative.IORING_ENTER_SQ_WAIT;
        return flags;
    }

    /// <summary>
    /// Waits until the kernel's thread has consumed every published SQE (its head reached our tail): before an fd
    /// named by a queued request is closed, the request must have been issued (the kernel resolves the fd number
    /// then). Wakes the thread if it sleeps. Bounded: a thread that takes nothing for 10 s is an error.
    /// </summary>
    public void WaitForSqConsumed(string call)
    {
        if (!_sqPoll) return;
        long start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (PendingSubmissions > 0)
        {
            Enter(PendingSubmissions, 0, 0);                 // wakes a sleeping thread; no syscall while it runs
            spin.SpinOnce(sleep1Threshold: -1);
            if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(10))
                throw new LinuxEventException(Errno.EBUSY, string.Create(CultureInfo.InvariantCulture, $"io_uring SQPOLL (fd={_ringFd}) for {call}"),
                    "The kernel's submission thread took no request for 10 s.");
        }
    }
}
