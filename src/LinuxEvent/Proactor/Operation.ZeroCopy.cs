namespace LinuxEvent;

// Zero-copy send (ProactorOptions.ZeroCopySendThreshold, UringProactorBackend.ZeroCopy.cs): an IORING_OP_SEND_ZC posts
// two CQEs under one user_data, the result (IORING_CQE_F_MORE) and later the notification (IORING_CQE_F_NOTIF) that the
// kernel no longer reads the buffer. The operation stays pending, its buffer pinned, until both have arrived.
public sealed partial class Operation
{
    /// <summary>The last submission of this send was IORING_OP_SEND_ZC.</summary>
    internal bool ZeroCopy;

    /// <summary>Which of the two CQEs of a zero-copy send have arrived (ZeroCopyResultSeen, ZeroCopyNotifSeen).</summary>
    internal byte ZeroCopySeen;

    /// <summary>The result CQE's res, kept until the notification settles the operation.</summary>
    internal int ZeroCopyResult;

    internal const byte ZeroCopyResultSeen = 1, ZeroCopyNotifSeen = 2;
}
