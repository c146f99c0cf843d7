namespace LinuxEvent;

/// <summary>Where an <see cref="Operation"/> is in its life. It settles exactly once.</summary>
public enum OperationState
{
    /// <summary>Submitted, not settled.</summary>
    Pending,
    /// <summary>Settled with success; see <see cref="Operation.Result"/>.</summary>
    Completed,
    /// <summary>Settled with an error; see <see cref="Operation.Error"/>.</summary>
    Failed,
    /// <summary>Settled by cancellation (or the loop's disposal) before the kernel completed it.</summary>
    Cancelled,
    /// <summary>
    /// Settled because its timeout (the <c>TimeSpan timeout</c> overloads of <see cref="ProactorLoop"/>; io_uring's
    /// IORING_OP_LINK_TIMEOUT) expired before the kernel completed it: the kernel cancelled it. Only an operation
    /// submitted with a timeout can end this way; one that completed first is <see cref="Completed"/>, and one whose
    /// <see cref="Operation.Cancel"/> was requested first is <see cref="Cancelled"/>.
    /// </summary>
    TimedOut,
}
