using System.Net.Sockets;

namespace LinuxEvent.Net;

/// <summary>
/// What <see cref="LoopStream.Detach"/> / <see cref="LoopStream.DetachAsync"/> hand back: the fd, still open, and the
/// input the stream had already read from it but not delivered. The receiver owns both.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> <see cref="BufferedInput"/> came off the fd before anything the fd will yield from now on: a
/// consumer processes it first. A <see cref="Socket"/> built from the fd alone would silently lose these bytes.</para>
/// <para><b>Ownership.</b> The fd belongs to the receiver: close it with <see cref="Posix.Close"/>, or take it as a
/// <see cref="Socket"/> with <see cref="ToSocket"/> (once). If the stream was created from a <see cref="Socket"/> or a
/// <see cref="System.Runtime.InteropServices.SafeHandle"/>, that owner still holds the fd: <see cref="ToSocket"/>
/// returns that same socket, and the fd must not be closed by number.</para>
/// </remarks>
public sealed class DetachedStream
{
    private readonly object? _owner;
    private int _taken;

    internal DetachedStream(int fd, byte[] bufferedInput, bool peerEnded, object? owner)
    {
        Fd = fd;
        BufferedInput = bufferedInput;
        PeerEnded = peerEnded;
        _owner = owner;
    }

    /// <summary>The fd, open and non-blocking. The receiver owns it (see the remarks).</summary>
    public int Fd { get; }

    /// <summary>Bytes read from the fd ahead of the reader and not yet delivered, in order (a copy the receiver owns;
    /// empty when nothing was buffered).</summary>
    public ReadOnlyMemory<byte> BufferedInput { get; }

    /// <summary>True if the stream had already seen the peer's EOF: after <see cref="BufferedInput"/> the fd yields
    /// nothing more.</summary>
    public bool PeerEnded { get; }

    /// <summary>
    /// The fd as a <see cref="Socket"/> that owns it, in blocking mode as a new socket would be (set
    /// <see cref="Socket.Blocking"/> to change that). For a stream created from a <see cref="Socket"/>, that socket.
    /// Callable once: the fd has one owner. Process <see cref="BufferedInput"/> before reading from the socket.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called a second time.</exception>
    /// <exception cref="ArgumentException">The fd is not a socket (a pipe or tty was detached).</exception>
    public Socket ToSocket()
    {
        if (Interlocked.Exchange(ref _taken, 1) != 0)
            throw new InvalidOperationException("DetachedStream.ToSocket: the fd was already taken as a Socket; it has one owner.");
        if (_owner is Socket existing) return existing;
        if (_owner is not null)
            throw new InvalidOperationException("DetachedStream.ToSocket: the stream was created from a SafeHandle, which still owns the fd.");
        var handle = new SafeSocketHandle(Fd, ownsHandle: true);
        Socket socket;
        try { socket = new Socket(handle); }
        catch (SocketException ex)
        {
            // Not a socket (ENOTSOCK): nothing took the fd, so it stays the caller's.
            handle.SetHandleAsInvalid();
            Interlocked.Exchange(ref _taken, 0);
            throw new ArgumentException($"DetachedStream.ToSocket: fd {Fd} is not a socket ({ex.SocketErrorCode}).", ex);
        }
        socket.Blocking = true;
        return socket;
    }

    /// <inheritdoc />
    public override string ToString() => $"DetachedStream(fd={Fd}, {BufferedInput.Length} bytes buffered{(PeerEnded ? ", peer ended" : "")})";
}
