using System.Net.Sockets;

namespace LinuxEvent.Net;

public readonly partial struct SocketConnection
{
    /// <summary>
    /// The connection as a <see cref="Socket"/> that owns the fd (disposing the socket closes it), in blocking mode as a
    /// new socket would be. Use it instead of <see cref="ToStream"/>, not as well: the fd has one owner. Nothing has
    /// been read from a freshly accepted or connected socket, so no byte is lost; for a connection that a
    /// <see cref="LoopStream"/> already read from, use <see cref="LoopStream.DetachAsync"/>, which hands back the bytes
    /// it read ahead.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection is empty (default).</exception>
    public Socket ToSocket()
    {
        if (Fd <= 0 && RemoteEndPoint is null) throw new InvalidOperationException("SocketConnection.ToSocket: the connection is empty (default).");
        var socket = new Socket(new SafeSocketHandle(Fd, ownsHandle: true));
        socket.Blocking = true;
        return socket;
    }
}
