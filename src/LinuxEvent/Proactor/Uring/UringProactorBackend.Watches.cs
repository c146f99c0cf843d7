using System.Globalization;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== internal fd watches (signalfd, pidfd)

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state)
    {
        if (Is(State.Abandoned) || Is(State.Disposed)) throw new ObjectDisposedException(nameof(ProactorLoop));
        return _watches.Add(fd, callback, state);
    }

    /// <summary>
    /// Multishot POLL_ADD for POLLIN. io_uring's multishot poll posts one CQE per wakeup (EPOLLET is implied unless
    /// IORING_POLL_ADD_LEVEL), and arming it on an fd that is already readable posts a CQE at once. The loop's consumers
    /// read until EAGAIN (signalfd) or act once (pidfd), so this gives them level semantics: nothing readable is left
    /// unreported. Before 5.13 (no multishot poll) the poll is single-shot: <see cref="DispatchWatch"/> runs the
    /// callback and then re-arms it, and a readiness that arrived in between is reported by the new poll at once.
    /// </summary>
    void InternalWatchTable.IKernel.Arm(InternalWatchTable.Entry entry)
    {
        IoUringSqe* sqe = NextSqe("ProactorLoop internal fd watch");
        UringPrep.PollAdd(sqe, entry.Fd, PollIn, multishot: _pollMultishot, entry.Token);
        entry.Armed = true;
    }

    /// <summary>
    /// POLL_REMOVE keyed on the poll's user_data; the poll's own final CQE (-ECANCELED, no F_MORE) releases the entry.
    /// Until then later CQEs for it are ignored (cancelled), e.g. after the pidfd watcher closed its fd: the poll holds
    /// its own file reference, so closing the fd number does not end it.
    /// </summary>
    bool InternalWatchTable.IKernel.Disarm(InternalWatchTable.Entry entry)
    {
        if (Is(State.Abandoned) || Is(State.Disposed) || !entry.Armed) return true;
        // Loop disposal cancels adaptor watches first and may run on a thread that is not the ring's owner; it must
        // not throw there (a full SQ would need an enter). Closing the ring in DrainForDispose/Dispose ends the poll.
        if (_ring.OwnerThreadId != 0 && !_ring.IsOwnerThread && _ring.SqSpaceLeft == 0) return false;
        IoUringSqe* sqe = NextSqe("ProactorLoop internal fd watch cancel");
        UringPrep.PollRemove(sqe, entry.Token, IgnoreUserData);
        return false;
    }

    private void DispatchWatch(ulong userData, int res, bool more)
    {
        if (_watches.Find(userData) is not { } w) return;     // stale
        if (!w.Cancelled && res > 0)
        {
            w.Failures = 0;
            _watches.Fire(w);        // may Cancel the watch (the pidfd watcher closes its fd in here)
        }
        if (more) return;

        w.Armed = false;
        if (w.Cancelled || Is(State.Draining))
        {
            _watches.Release(w);
            return;
        }
        // Still watched but the poll ended: a single-shot poll after its event (kernels before 5.13), or a multishot poll
        // ended by CQ overflow or an error. Re-arm, unless it keeps failing.
        if (res < 0 && ++w.Failures >= MaxWatchFailures)
        {
            w.Cancelled = true;
            _watches.Release(w);
            _loop.ReportException(new LinuxEventException(-res, string.Create(CultureInfo.InvariantCulture,
                $"io_uring POLL_ADD(fd={w.Fd}, POLLIN)"), "The loop stopped watching this internal fd after repeated failures."));
            return;
        }
        try
        {
            ((InternalWatchTable.IKernel)this).Arm(w);
        }
        catch (Exception ex)
        {
            w.Cancelled = true;
            _watches.Release(w);
            _loop.ReportException(ex);
        }
    }
}
