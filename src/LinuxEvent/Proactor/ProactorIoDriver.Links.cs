using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

// Operations linked in the kernel: an operation's own timeout (IORING_OP_LINK_TIMEOUT), and chains of steps
// (IOSQE_IO_LINK), submitted and settled here for both proactor backends.
internal sealed partial class ProactorIoDriver
{
    /// <summary>The async API's deadlines are linked timeouts: the backend submits one after the operation's SQE (the
    /// fake arms a virtual timer), and <see cref="ApplyResult"/> reports the cancellation it causes as TimedOut.</summary>
    public override bool LinksDeadlines => true;

    /// <summary>A linked timeout fits a single-shot operation that is not a timeout itself and not a chain step.</summary>
    private static void CheckLinkTimeout(Operation op)
    {
        if (op.Kind is OperationKind.Timeout or OperationKind.Nop or OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot)
            throw new ArgumentException($"{IoNames.ProactorCall(op.Kind)}: a {op.Kind} operation takes no timeout of its own.");
        if (op.ChainNext is not null || op.ChainPrevious is not null)
            throw new ArgumentException($"{IoNames.ProactorCall(op.Kind)}: a step of an OperationChain takes no timeout of its own.");
    }

    /// <summary>
    /// Submits <paramref name="steps"/> as one chain: each step starts only when the one before it completed, and a
    /// step that fails (or, for a read or write, transfers fewer bytes than asked) ends the chain, the kernel settling
    /// the remaining steps as Cancelled. All or nothing: if anything throws, no step keeps a slot, a pin or an SQE.
    /// </summary>
    internal void SubmitChain(Operation[] steps)
    {
        if (steps.Length == 0) return;
        if (Loop.IsDisposed || (Loop.IsRunning && !Loop.IsOnLoopThread)) Loop.CheckThread("ProactorLoop.Link");
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop), "This proactor loop is being disposed.");
        for (int i = 0; i + 1 < steps.Length; i++)
        {
            steps[i].ChainNext = steps[i + 1];
            steps[i + 1].ChainPrevious = steps[i];
        }
        int reserved = 0;
        try
        {
            for (; reserved < steps.Length; reserved++) Reserve(steps[reserved]);
            Backend.SubmitChain(steps);
        }
        catch
        {
            for (int i = 0; i < reserved; i++) ReleaseSlot(steps[i]);
            foreach (var step in steps) step.ChainNext = step.ChainPrevious = null;
            throw;
        }
    }

    /// <summary>A step settles: the next step no longer waits for it (it has started, or was cancelled with the chain).</summary>
    private static void Unchain(Operation op)
    {
        if (op.ChainNext is { } next)
        {
            if (ReferenceEquals(next.ChainPrevious, op)) next.ChainPrevious = null;
            op.ChainNext = null;
        }
        if (op.ChainPrevious is { } previous)
        {
            if (ReferenceEquals(previous.ChainNext, op)) previous.ChainNext = null;
            op.ChainPrevious = null;
        }
    }

    /// <summary>
    /// Whether a settled step ends its chain, as the kernel decides (io_uring sets REQ_F_FAIL and cancels the links):
    /// any error or cancellation, and a read or write that transferred fewer bytes than it asked for
    /// (__io_complete_rw_common compares the result with the requested length). A short send or receive does not: the
    /// socket opcodes fail the link only below their minimum (MSG_WAITALL), which this library does not set. Used by the
    /// fake, which must end chains where the kernel does.
    /// </summary>
    internal static bool EndsChain(Operation step)
        => step.State != OperationState.Completed
            || (step.Kind is OperationKind.Read or OperationKind.Write or OperationKind.ReadV or OperationKind.WriteV
                && step.Result < step.RequestedLength);
    /// <summary>
    /// Cancel of a chain step the kernel has not started: ASYNC_CANCEL would not find it (a linked request is only
    /// issued when the one before it completes), so the step running now is cancelled instead, and the kernel settles
    /// this one and every later one as Cancelled.
    /// </summary>
    private bool CancelChainAt(Operation op)
    {
        var running = op;
        while (running.ChainPrevious is { State: OperationState.Pending } previous) running = previous;
        CancelOperation(running);
        op.CancelRequested = true;
        return true;
    }
}
