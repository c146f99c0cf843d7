namespace LinuxEvent;

/// <summary>
/// What a <see cref="StreamChannel"/> tells its owner. Every call comes from the loop's dispatch or deferred phase,
/// never inline inside a call the owner made on the channel.
/// </summary>
public interface IStreamChannelHandler
{
    /// <summary>Bytes arrived. The span is the loop's shared receive buffer (reactor), a buffer of the loop's shared ring
    /// (proactor) or the channel's own: valid only during the call, so consume or copy what you keep.</summary>
    void OnReceived(ReadOnlySpan<byte> data);

    /// <summary>The peer shut down its side (EOF). The channel stops reading by itself.</summary>
    void OnPeerClosed();

    /// <summary>The kernel accepted <paramref name="count"/> queued bytes (not called for bytes a
    /// <see cref="StreamChannel.Write"/> handed to the kernel at once: <see cref="StreamChannel.BytesSent"/> counts both).</summary>
    void OnSent(int count);

    /// <summary>An I/O error: <paramref name="errno"/> from <paramref name="call"/> (the syscall, e.g. "recv"). The
    /// channel does no further I/O; the owner closes it.</summary>
    void OnFailed(int errno, string call);
}
