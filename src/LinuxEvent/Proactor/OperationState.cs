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
}
