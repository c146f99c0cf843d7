using System.Net;

namespace LinuxEvent;

/// <summary>
/// <see cref="Loop.ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/> received a datagram larger than its buffer (the kernel reported MSG_TRUNC).
/// Errno is EMSGSIZE (<see cref="System.Net.Sockets.SocketError.MessageSize"/>, as .NET's own sockets report it), the errno
/// Linux gives for a datagram too large for the other direction: truncation is reported,
/// never silent. The datagram is consumed: the buffer holds its first <see cref="ReceivedBytes"/> bytes and the kernel
/// discarded the rest. Use a buffer as large as the largest datagram the protocol allows (65507 bytes for UDP over
/// IPv4), or <see cref="Loop.ReceiveMessageAsync"/>, which reports truncation in its result instead of throwing.
/// </summary>
public sealed class DatagramTruncatedException : LinuxEventSocketException
{
    /// <summary>Creates the exception for a datagram received on <paramref name="socket"/> into a buffer of
    /// <paramref name="receivedBytes"/> bytes.</summary>
    public DatagramTruncatedException(int socket, int receivedBytes, EndPoint? remoteEndPoint)
        : base(LinuxEvent.Errno.EMSGSIZE, $"recvmsg(fd={socket})",
            $"The datagram from {remoteEndPoint?.ToString() ?? "an unnamed socket"} was larger than the {receivedBytes}-byte buffer (MSG_TRUNC): the buffer holds its first {receivedBytes} bytes and the kernel discarded the rest. Use a larger buffer, or ReceiveMessageAsync, which reports truncation instead of throwing.")
    {
        Socket = socket;
        ReceivedBytes = receivedBytes;
        RemoteEndPoint = remoteEndPoint;
    }

    /// <summary>Creates an exception for an unknown truncated datagram (for serializers and tests): errno EMSGSIZE, no
    /// socket (-1).</summary>
    public DatagramTruncatedException() : base(LinuxEvent.Errno.EMSGSIZE, "recvmsg", "The datagram was larger than the buffer (MSG_TRUNC).")
    {
        Socket = -1;
    }

    /// <summary>Creates an exception with <paramref name="message"/>, no errno and no socket (-1).</summary>
    public DatagramTruncatedException(string message) : base(message)
    {
        Socket = -1;
    }

    /// <summary>Creates an exception with <paramref name="message"/> wrapping <paramref name="innerException"/>, no errno
    /// and no socket (-1).</summary>
    public DatagramTruncatedException(string message, Exception? innerException) : base(message, innerException)
    {
        Socket = -1;
    }

    /// <summary>The socket the datagram was received on.</summary>
    public int Socket { get; }

    /// <summary>The bytes of the datagram that are in the buffer (the buffer's length).</summary>
    public int ReceivedBytes { get; }

    /// <summary>The sender (null for an unnamed Unix socket).</summary>
    public EndPoint? RemoteEndPoint { get; }
}
