namespace LinuxEvent.Net;

/// <summary>Options of a <see cref="DatagramSocket"/>.</summary>
public sealed class DatagramSocketOptions
{
    /// <summary>Shared defaults.</summary>
    public static DatagramSocketOptions Default { get; } = new();

    /// <summary>
    /// The receive buffer of the handler loop: the largest datagram delivered whole (default 65536, more than UDP can
    /// carry). A larger datagram is dropped, never delivered cut, and counted in
    /// <see cref="DatagramSocket.TruncatedDatagrams"/>.
    /// </summary>
    public int MaxDatagramSize { get; init; } = 65536;

    /// <summary>
    /// Bytes of datagrams that may wait to be sent (default 1 MiB). When a datagram does not fit,
    /// <see cref="DatagramSocket.SendTo"/> drops it (counted in <see cref="DatagramSocket.DroppedDatagrams"/>) and
    /// <see cref="DatagramSocket.SendToAsync"/> waits for room.
    /// </summary>
    public int SendQueueBytes { get; init; } = 1 << 20;

    /// <summary>
    /// Most datagrams the handler loop delivers in a row before it lets the loop run its other work (default 64): a
    /// flood that is always ready to read cannot starve timers, posts or other sockets.
    /// </summary>
    public int MaxDatagramsPerIteration { get; init; } = 64;

    /// <summary>SO_REUSEADDR (default false).</summary>
    public bool ReuseAddress { get; init; }

    /// <summary>SO_REUSEPORT (default false): several sockets, one loop per core, share a UDP port; the kernel spreads
    /// datagrams among them by the sender's address and port.</summary>
    public bool ReusePort { get; init; }

    /// <summary>IPV6_V6ONLY for an IPv6 endpoint (default false: <c>[::]</c> also receives IPv4, as mapped addresses).</summary>
    public bool IPv6Only { get; init; }

    /// <summary>SO_RCVBUF in bytes, or null for the system default (net.core.rmem_default). The kernel's own queue
    /// of received datagrams: when it is full, new datagrams are dropped by the kernel.</summary>
    public int? SocketReceiveBufferSize { get; init; }

    /// <summary>SO_SNDBUF in bytes, or null for the system default.</summary>
    public int? SocketSendBufferSize { get; init; }

    internal void Validate()
    {
        if (MaxDatagramSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxDatagramSize), MaxDatagramSize, "DatagramSocketOptions.MaxDatagramSize must be positive.");
        if (SendQueueBytes < 1) throw new ArgumentOutOfRangeException(nameof(SendQueueBytes), SendQueueBytes, "DatagramSocketOptions.SendQueueBytes must be positive.");
        if (MaxDatagramsPerIteration < 1) throw new ArgumentOutOfRangeException(nameof(MaxDatagramsPerIteration), MaxDatagramsPerIteration, "DatagramSocketOptions.MaxDatagramsPerIteration must be positive.");
        if (SocketReceiveBufferSize is < 1) throw new ArgumentOutOfRangeException(nameof(SocketReceiveBufferSize), SocketReceiveBufferSize, "DatagramSocketOptions.SocketReceiveBufferSize must be positive.");
        if (SocketSendBufferSize is < 1) throw new ArgumentOutOfRangeException(nameof(SocketSendBufferSize), SocketSendBufferSize, "DatagramSocketOptions.SocketSendBufferSize must be positive.");
    }
}
