using System.Net;

namespace LinuxEvent;

/// <summary>The outcome of <see cref="Loop.ReceiveMessageAsync"/>: bytes, sender, received fds and what was lost.</summary>
public readonly struct ReceiveMessageResult
{
    /// <summary>Creates a result (for tests and adapters; the loop creates these itself).</summary>
    public ReceiveMessageResult(int receivedBytes, EndPoint? remoteEndPoint, int fdCount, ReceiveMessageFlags flags)
    {
        ReceivedBytes = receivedBytes;
        RemoteEndPoint = remoteEndPoint;
        FdCount = fdCount;
        Flags = flags;
    }

    /// <summary>
    /// Bytes written into the buffer, never more than its length. On a datagram socket 0 is an empty datagram (not an
    /// end of stream); on a stream socket 0 means the peer shut down its side.
    /// </summary>
    public int ReceivedBytes { get; }

    /// <summary>
    /// The sender: an <see cref="IPEndPoint"/> or a <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>; null
    /// when the sender has no address (an unnamed Unix socket, such as one end of a socket pair, or a stream socket).
    /// Consecutive messages from the same peer return the same object: treat it as read-only.
    /// </summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Number of fds received into the fd buffer (<c>fds[..FdCount]</c>). They are owned by the caller, who
    /// must close them, and are close-on-exec (MSG_CMSG_CLOEXEC).</summary>
    public int FdCount { get; }

    /// <summary>What was lost: <see cref="ReceiveMessageFlags.Truncated"/>, <see cref="ReceiveMessageFlags.ControlTruncated"/>.</summary>
    public ReceiveMessageFlags Flags { get; }

    /// <summary>The datagram was larger than the buffer; the rest was discarded (MSG_TRUNC).</summary>
    public bool IsTruncated => (Flags & ReceiveMessageFlags.Truncated) != 0;

    /// <summary>More fds arrived than the fd buffer holds; the kernel closed the extra ones (MSG_CTRUNC).</summary>
    public bool IsControlTruncated => (Flags & ReceiveMessageFlags.ControlTruncated) != 0;

    /// <inheritdoc />
    public override string ToString() => $"{ReceivedBytes} bytes from {RemoteEndPoint?.ToString() ?? "(unnamed)"}, {FdCount} fds{(Flags == ReceiveMessageFlags.None ? "" : ", " + Flags)}";
}
