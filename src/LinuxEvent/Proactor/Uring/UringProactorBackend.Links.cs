using System.Diagnostics;
using System.Globalization;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

// Linked SQEs: an operation and its IORING_OP_LINK_TIMEOUT, and the steps of a chain (IOSQE_IO_LINK). A link only
// holds within one submission batch (io_submit_sqes keeps the link head in its submit state and queues whatever is
// linked so far when the batch ends), so the SQEs of a link are always taken from one stretch of free SQ slots.
internal sealed unsafe partial class UringProactorBackend
{
    public override void SubmitChain(Operation[] steps)
    {
        const string call = "ProactorLoop.Link";
        // Everything that can throw happens before the first SQE is taken: a chain is written whole or not at all.
        foreach (var step in steps)
        {
            if (!_kindSupported[(int)step.Kind]) ThrowUnsupported(step.Kind);
            if (step.Kind is OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot)
                throw new ArgumentException($"{call}: a multishot operation cannot be a chain step.");
        }
        if ((uint)steps.Length > _ring.SqEntries)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{call}: a chain of {steps.Length} operations does not fit the submission queue ({_ring.SqEntries} entries); raise ProactorOptions.QueueDepth."));
        foreach (var step in steps) if (step.Kind == OperationKind.Timeout) TimespecFor(step.Slot);
        EnsureSqSpace(steps.Length, call);
        foreach (var step in steps) Submit(step);            // each SQE but the last gets IOSQE_IO_LINK (ChainNext)
    }

    /// <summary>Makes sure <paramref name="count"/> SQ slots are free, submitting what is queued if needed.</summary>
    private void EnsureSqSpace(int count, string call)
    {
        if (_ring.SqSpaceLeft >= (uint)count) return;
        EnsureKernelAccess(call);
        _ring.Submit();
        long start = Stopwatch.GetTimestamp();
        while (_ring.SqSpaceLeft < (uint)count)
        {
            // The kernel took nothing (EAGAIN/EBUSY): make room as NextSqeAfterBusy does.
            if (StashCompletions() == 0)
            {
                _ring.Enter(0, 1, 1_000_000);
                StashCompletions();
            }
            _ring.Submit();
            if (Stopwatch.GetElapsedTime(start) >= BusySubmitLimit)
                throw new LinuxEventException(Errno.EBUSY, string.Create(CultureInfo.InvariantCulture, $"io_uring_enter(fd={_ring.RingFd}, submit) for {call}"),
                    $"The kernel accepted no queued request for {BusySubmitLimit.TotalSeconds:0} s, so {count} linked SQEs could not be queued together.");
        }
    }

    /// <summary>Before the operation's SQE is taken: room for it and its linked timeout, and the timespec block.</summary>
    private KernelTimespec* PrepareLinkTimeout(Operation op)
    {
        if (!Capabilities.Supports(UringNative.IORING_OP_LINK_TIMEOUT) && _ring.Capabilities.LastOpcode >= 0)
            throw new LinuxEventUnsupportedException(Errno.EINVAL, IoNames.ProactorCall(op.Kind),
                $"This kernel's io_uring lacks IORING_OP_LINK_TIMEOUT (Linux 5.5) ({_ring.Capabilities}). The reactor model (Loop.CreateReactor()) works everywhere.");
        KernelTimespec* ts = TimespecFor(op.Slot);
        EnsureSqSpace(2, IoNames.ProactorCall(op.Kind));
        return ts;
    }

    /// <summary>Links the operation's SQE to a LINK_TIMEOUT in the next slot (made free by <see cref="PrepareLinkTimeout"/>).</summary>
    private void LinkTimeoutAfter(IoUringSqe* sqe, Operation op, KernelTimespec* ts)
    {
        sqe->flags |= UringNative.IOSQE_IO_LINK;
        *ts = KernelTimespec.FromNanoseconds(op.LinkTimeoutNs);
        IoUringSqe* timeout = NextSqe(IoNames.ProactorCall(op.Kind));
        // Its CQE (-ETIME: it fired; -ECANCELED: the operation won) carries nothing we act on: the operation's own CQE
        // tells which happened.
        UringPrep.LinkTimeout(timeout, ts, 0, IgnoreUserData);
    }
}
