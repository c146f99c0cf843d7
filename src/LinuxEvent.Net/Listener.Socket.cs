using System.Net.Sockets;

namespace LinuxEvent.Net;

public sealed partial class Listener
{
    /// <summary>Set by <see cref="FromSocket(Loop, Socket, bool, AcceptHandler?, ListenerOptions?)"/>.</summary>
    private FdOwner? _owner;
    private bool _ownerOwned;

    /// <summary>
    /// Accepts on a listening <see cref="Socket"/> (bound and listening already; made non-blocking here). The listener
    /// keeps the socket alive while it uses it (a reference is taken on its handle), so a concurrent
    /// <see cref="Socket.Dispose()"/> cannot close the fd under the loop's accept. With <paramref name="ownsSocket"/> the
    /// listener disposes the socket when it is disposed; otherwise it only drops its reference and the socket stays the
    /// caller's (do not accept on it meanwhile). A Unix socket's file is never unlinked. Disposing the socket elsewhere
    /// while the listener uses it waits for the listener's reference (after the runtime shut the socket down): dispose
    /// the listener first, and never the socket on the loop thread while the listener is open.
    /// </summary>
    /// <exception cref="ArgumentException">The socket is not a stream socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket or the loop is disposed (the socket stays the caller's).</exception>
    public static Listener FromSocket(Loop loop, Socket listeningSocket, bool ownsSocket, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        var owner = FdOwner.Acquire(listeningSocket, "Listener.FromSocket", requireStream: true);
        Listener listener;
        try
        {
            listener = FromSocket(loop, owner.Fd, ownsSocket: false, onAccept, options);
        }
        catch
        {
            owner.Release(dispose: false);
            throw;
        }
        listener._owner = owner;
        listener._ownerOwned = ownsSocket;
        return listener;
    }

    /// <summary>Drops the reference on a socket handed in as a <see cref="Socket"/>, disposing it if owned. Once.</summary>
    private void ReleaseOwner()
    {
        var owner = _owner;
        if (owner is null) return;
        _owner = null;
        owner.Release(_ownerOwned);
    }
}
