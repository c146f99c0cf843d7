using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>An accepted or connected socket: its fd (owned by whoever receives it) and the peer's address.</summary>
public readonly struct SocketConnection
{
    internal SocketConnection(int fd, EndPoint? remote)
    {
        Fd = fd;
        RemoteEndPoint = remote;
    }

    /// <summary>The connected socket (non-blocking, close-on-exec). The receiver owns it: wrap it in a
    /// <see cref="LoopStream"/> (which closes it) or close it with <see cref="Posix.Close"/>.</summary>
    public int Fd { get; }

    /// <summary>The peer: an <see cref="IPEndPoint"/> (address and port) for TCP, a <see cref="UnixDomainSocketEndPoint"/>
    /// (path, or "@name" for the abstract namespace) for a named Unix socket; null for an unnamed Unix peer (the
    /// usual case for a Unix client) or when not resolved (<see cref="ListenerOptions.ResolvePeerEndPoint"/>).</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Wraps the socket in a <see cref="LoopStream"/> that owns it.</summary>
    public LoopStream ToStream(Loop loop, LoopStreamOptions? options = null)
    {
        if (options is null) return new LoopStream(loop, Fd, s_socketStream);
        if (options.FdKind != StreamFdKind.Auto) return new LoopStream(loop, Fd, options);
        return new LoopStream(loop, Fd, new LoopStreamOptions
        {
            OwnsFd = options.OwnsFd, FdKind = StreamFdKind.Socket, ReceiveBufferSize = options.ReceiveBufferSize,
            HighWatermark = options.HighWatermark, LowWatermark = options.LowWatermark, ReadAheadLimit = options.ReadAheadLimit,
            Codec = options.Codec, PeerEnd = options.PeerEnd,
        });
    }

    private static readonly LoopStreamOptions s_socketStream = new() { FdKind = StreamFdKind.Socket };

    /// <inheritdoc />
    public override string ToString() => $"fd {Fd} from {RemoteEndPoint?.ToString() ?? "(unnamed)"}";
}

/// <summary>Socket plumbing shared by <see cref="Listener"/> and <see cref="Connector"/>, without unsafe code.</summary>
internal static class SocketHelpers
{
    /// <summary>A new non-blocking, close-on-exec stream socket of <paramref name="endpoint"/>'s family.</summary>
    public static int CreateStreamSocket(EndPoint endpoint, out int errno)
    {
        int family = endpoint switch
        {
            UnixDomainSocketEndPoint => Libc.AF_UNIX,
            IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } => Libc.AF_INET6,
            IPEndPoint => Libc.AF_INET,
            _ => throw new ArgumentException($"Unsupported endpoint '{endpoint}' ({endpoint.AddressFamily}); use IPEndPoint or UnixDomainSocketEndPoint.", nameof(endpoint)),
        };
        int fd = Libc.Socket(family, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        errno = fd < 0 ? Libc.LastErrno : 0;
        return fd;
    }

    /// <summary>
    /// A non-blocking, close-on-exec Unix-domain listening socket bound to <paramref name="endpoint"/>, and the managed
    /// <see cref="Socket"/> that owns it. The core's <see cref="Posix"/> has no bind for Unix paths, and bind(2) takes a
    /// pointer, which only the core's Native layer may use; so the managed socket binds and listens. It stays the
    /// owner: its Dispose closes the fd and unlinks the path it bound (the runtime does that for sockets it bound), which
    /// is exactly the listener's contract. It never starts an async operation, so the runtime's socket engine never
    /// registers the fd.
    /// </summary>
    public static Socket CreateUnixListener(UnixDomainSocketEndPoint endpoint, int backlog)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(backlog);
            Posix.SetNonBlocking((int)socket.Handle, true);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            int errno = ex.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => Errno.EADDRINUSE,
                SocketError.AccessDenied => Errno.EACCES,
                SocketError.AddressNotAvailable => Errno.EADDRNOTAVAIL,
                _ => Errno.EINVAL,
            };
            throw new LinuxEventException(errno, $"bind/listen(unix:{endpoint})", ex.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The peer address of <paramref name="fd"/>, or null when it has none (unnamed Unix socket) or it reset already.</summary>
    public static EndPoint? PeerOf(int fd)
    {
        try { return Posix.GetRemoteEndPoint(fd); }
        catch (LinuxEventException) { return null; }         // ENOTCONN: reset between accept and now
    }

    public static string Describe(EndPoint ep) => ep is UnixDomainSocketEndPoint ? "unix:" + ep : ep.ToString() ?? "?";
}
