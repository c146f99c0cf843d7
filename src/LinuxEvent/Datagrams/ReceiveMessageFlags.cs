namespace LinuxEvent;

/// <summary>What a received message lost (<see cref="ReceiveMessageResult.Flags"/>).</summary>
[Flags]
public enum ReceiveMessageFlags
{
    /// <summary>Nothing was lost.</summary>
    None = 0,

    /// <summary>
    /// MSG_TRUNC: the datagram was larger than the buffer. The buffer holds its first bytes; the kernel discarded the
    /// rest (a datagram is consumed whole by one receive).
    /// </summary>
    Truncated = 1,

    /// <summary>
    /// MSG_CTRUNC: more ancillary data arrived than there was room for, typically more SCM_RIGHTS fds than the fd
    /// buffer holds. The fds that did not fit were closed by the kernel (the caller never owned them).
    /// </summary>
    ControlTruncated = 2,
}
