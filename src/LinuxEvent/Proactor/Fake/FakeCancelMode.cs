namespace LinuxEvent;

/// <summary>How a fake proactor answers <see cref="Operation.Cancel"/> (<see cref="FakeCompletions.CancelMode"/>).</summary>
public enum FakeCancelMode
{
    /// <summary>
    /// The cancel wins at once: the operation settles as Cancelled when <see cref="Operation.Cancel"/> is called and its
    /// callback runs at the next dispatch. The usual outcome on io_uring, and the simplest script.
    /// </summary>
    Immediate,

    /// <summary>
    /// Cancellation is a request, as on io_uring (IORING_OP_ASYNC_CANCEL is itself an operation): <see cref="Operation.Cancel"/>
    /// returns true and the operation stays Pending, listed in <see cref="FakeCompletions.CancelRequests"/>, until the script
    /// resolves the race: <see cref="FakeCompletions.ConfirmCancel"/> (the cancel won: Cancelled), a completion
    /// (<see cref="FakeCompletions.Complete"/>, <see cref="FakeCompletions.CompleteReceive"/>, <see cref="FakeCompletions.Fail"/>:
    /// the operation had finished first and keeps its result), or <see cref="FakeCompletions.RejectCancel"/> (the cancel
    /// got -EALREADY: the operation is running and will complete normally).
    /// </summary>
    Scripted,
}
