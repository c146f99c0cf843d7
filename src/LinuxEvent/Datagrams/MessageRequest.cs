using System.Net;

namespace LinuxEvent.Datagrams;

/// <summary>The arguments of one sendmsg/recvmsg request, as they cross the seam (<see cref="Seam.IoDriver.StartMessage"/>).</summary>
internal readonly struct MessageRequest(Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote,
    ReadOnlyMemory<int> sendFds, Memory<int> receiveFds, bool throwOnTruncation)
{
    /// <summary>Receive: where the datagram goes.</summary>
    public readonly Memory<byte> Buffer = buffer;
    /// <summary>Send: the bytes to send.</summary>
    public readonly ReadOnlyMemory<byte> ConstBuffer = constBuffer;
    /// <summary>Send: the destination, or null on a connected socket.</summary>
    public readonly EndPoint? Remote = remote;
    /// <summary>Send: fds to pass as SCM_RIGHTS.</summary>
    public readonly ReadOnlyMemory<int> SendFds = sendFds;
    /// <summary>Receive: room for SCM_RIGHTS fds.</summary>
    public readonly Memory<int> ReceiveFds = receiveFds;
    /// <summary>Receive: a truncated datagram fails the call (ReceiveFromAsync) instead of being flagged.</summary>
    public readonly bool ThrowOnTruncation = throwOnTruncation;
}
