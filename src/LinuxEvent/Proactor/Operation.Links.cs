namespace LinuxEvent;

// Links between an operation and others in the kernel: a linked timeout (IORING_OP_LINK_TIMEOUT after the operation's
// SQE, which carries IOSQE_IO_LINK), and the steps of an OperationChain (IOSQE_IO_LINK from each step to the next).
public sealed partial class Operation
{
    /// <summary>The operation's timeout in nanoseconds, or -1 for none. Kept across <see cref="ProactorLoop.Resubmit(Operation)"/>.</summary>
    internal long LinkTimeoutNs = -1;

    /// <summary>The registered file table slot the SQE names (IOSQE_FIXED_FILE) instead of <see cref="Fd"/>, or -1.</summary>
    internal int FixedFile = -1;

    /// <summary>The fake backend's timer standing in for the kernel's linked timeout (created once, restarted).</summary>
    internal TimerHandle? LinkTimer;

    /// <summary>The next step of the operation's chain while both are pending (cleared when this one settles).</summary>
    internal Operation? ChainNext;

    /// <summary>The step before this one while both are pending: this one has not started yet.</summary>
    internal Operation? ChainPrevious;

    /// <summary>
    /// The timeout the operation was submitted with (the <c>TimeSpan timeout</c> overloads of <see cref="ProactorLoop"/>),
    /// or null. If it expires first the kernel cancels the operation, which settles as <see cref="OperationState.TimedOut"/>.
    /// </summary>
    public TimeSpan? LinkedTimeout => LinkTimeoutNs < 0 ? null : TimeSpan.FromTicks(LinkTimeoutNs / 100);

    /// <summary>True while the operation is a step of an <see cref="OperationChain"/> that waits for the step before it
    /// (the kernel starts it only when that one completes).</summary>
    public bool IsWaitingForChain => ChainPrevious is { State: OperationState.Pending };
}
