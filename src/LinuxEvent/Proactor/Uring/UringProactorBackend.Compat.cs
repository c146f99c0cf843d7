using System.Diagnostics;
using System.Globalization;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

// What older or busy kernels need: single-shot polls before 5.13, and a way through EAGAIN/EBUSY from io_uring_enter.
internal sealed unsafe partial class UringProactorBackend
{
    /// <summary>
    /// Whether the loop's own polls (wake eventfd, signalfd, pidfd) are multishot. Multishot POLL_ADD arrived in 5.13;
    /// on 5.10-5.12 the kernel answers IORING_POLL_ADD_MULTI with -EINVAL, so those polls are single-shot and re-armed
    /// after each completion (ArmWake, DispatchWatch). Decided once from the ring's features
    /// (<see cref="UringCapabilities.MultishotPoll"/>); a test knob forces the fallback on a newer kernel.
    /// </summary>
    private readonly bool _pollMultishot;

    /// <summary>True when the loop's own polls are multishot (see <see cref="_pollMultishot"/>).</summary>
    internal bool UsesMultishotPolls => _pollMultishot;

    /// <summary>The ring, for tests of the old-kernel paths.</summary>
    internal UringRing RingForTesting => _ring;

    // CQEs reaped while submitting (to make room for the kernel) wait here for the next dispatch: callbacks never run
    // from inside a submission. Grown on demand; empty in steady state.
    private UringCompletion[] _stash = [];
    private int _stashCount;

    /// <summary>How long a submission waits for a busy kernel to accept requests before giving up.</summary>
    internal static readonly TimeSpan BusySubmitLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The SQ is full and a submit left it full: io_uring_enter answered EAGAIN (no memory for requests right now) or
    /// EBUSY (kernels before 5.19 refuse to submit while completions wait in the overflow list). Spinning on the enter
    /// cannot help either case; taking completions can: reaping CQEs frees CQ slots, so the kernel can flush its
    /// overflow list and finish requests, which frees their memory. The CQEs are kept (not dispatched) and delivered,
    /// in order, by the next dispatch. When nothing is there to reap, wait briefly for a completion, then retry; give up
    /// with a clear error only after <see cref="BusySubmitLimit"/> without progress.
    /// </summary>
    private IoUringSqe* NextSqeAfterBusy(string call)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            if (StashCompletions() == 0)
            {
                // Nothing reaped: let the kernel finish something (GETEVENTS, up to 1 ms), then reap and retry.
                _ring.Enter(0, 1, 1_000_000);
                StashCompletions();
            }
            _ring.Submit();
            if (_ring.TryGetSqe(out IoUringSqe* sqe)) return sqe;
            if (Stopwatch.GetElapsedTime(start) >= BusySubmitLimit)
                throw new LinuxEventException(Errno.EBUSY, string.Create(CultureInfo.InvariantCulture,
                    $"io_uring_enter(fd={_ring.RingFd}, submit) for {call}"),
                    $"The submission queue is full and the kernel accepted no queued request for {BusySubmitLimit.TotalSeconds:0} s while completions were being reaped (EAGAIN/EBUSY).");
        }
    }

    /// <summary>Copies every CQE now in the CQ into the stash (releasing the slots). Returns how many.</summary>
    private int StashCompletions()
    {
        int total = 0;
        while (true)
        {
            if (_stash.Length - _stashCount < _completions.Length)
                Array.Resize(ref _stash, Math.Max(_stash.Length * 2, _stashCount + _completions.Length));
            int n = _ring.Reap(_stash.AsSpan(_stashCount));
            _stashCount += n;
            total += n;
            if (n == 0) return total;
        }
    }

    /// <summary>Dispatches CQEs stashed by a busy submission, oldest first. Returns how many.</summary>
    private int DispatchStash()
    {
        if (_stashCount == 0) return 0;
        int n = _stashCount, i = 0;
        try
        {
            for (; i < _stashCount; i++)
            {
                ref readonly var c = ref _stash[i];
                try { Dispatch(c.UserData, c.Result, c.Flags); }
                catch (Exception ex) { Driver.ReportOrCollect(ex); }
                if (Is(State.Abandoned)) { i++; break; }
            }
        }
        finally
        {
            // A callback may have submitted into a full SQ and stashed more: keep what was not dispatched yet.
            int left = _stashCount - i;
            if (left > 0) Array.Copy(_stash, i, _stash, 0, left);
            _stashCount = left;
        }
        return Math.Min(i, n);
    }

    /// <summary>
    /// The wait's io_uring_enter answered EAGAIN/EBUSY and there was nothing to dispatch: instead of returning at once
    /// (the loop would call the enter again immediately and spin at 100% CPU), wait for a completion without
    /// submitting, bounded by 1 ms and the loop's own timeout, then dispatch what arrived.
    /// </summary>
    private void WaitOutBusyKernel(long timeoutNs)
    {
        long bound = timeoutNs < 0 ? 1_000_000 : Math.Min(timeoutNs, 1_000_000);
        if (bound <= 0 || Is(State.Abandoned)) return;
        _ring.Enter(0, 1, bound);
        _loop.OnWaitReturned();
        ReapAndDispatch();
    }
}
