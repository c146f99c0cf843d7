using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>An accepted or connected socket: its fd (owned by whoever receives it) and the peer's address.</summary>
public readonly partial struct SocketConnection
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
        return new LoopStream(loop, Fd, options with { FdKind = StreamFdKind.Socket });
    }

    private static readonly LoopStreamOptions s_socketStream = new() { FdKind = StreamFdKind.Socket };

    /// <inheritdoc />
    public override string ToString() => $"fd {Fd} from {RemoteEndPoint?.ToString() ?? "(unnamed)"}";
}
