using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    /// <summary>Set when the fd came as a <see cref="Socket"/> or a <see cref="SafeHandle"/>: closing goes through it.</summary>
    private FdOwner? _owner
    {
        get => _x?.Owner;
        set { if (value is not null || _x is not null) X.Owner = value; }      // in Extras: most streams have none
    }

    /// <summary>
    /// Wraps a connected stream <paramref name="socket"/> (made non-blocking here). The stream keeps the socket's handle
    /// alive while it uses the fd (a reference is taken on it), so a concurrent <see cref="Socket.Dispose()"/> cannot
    /// close the fd under a loop operation.
    /// </summary>
    /// <remarks>
    /// <para><b>Ownership.</b> With <see cref="LoopStreamOptions.OwnsFd"/> (the default) the stream owns the socket: it
    /// disposes the <see cref="Socket"/> when it closes. With false the socket stays the caller's; the stream only
    /// releases its reference. <see cref="Detach"/> hands the same <see cref="Socket"/> back
    /// (<see cref="DetachedStream.ToSocket"/>).</para>
    /// <para>Do not use the socket for I/O while the stream is open: both would read the same bytes. Disposing the socket
    /// elsewhere while the stream is open makes the runtime shut it down (to end operations on it) and wait for the
    /// stream's reference: the stream sees the end or a reset, closes and lets go, and only then is the fd closed. So
    /// never dispose it on the loop thread while the stream is open: that thread would wait for itself.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The socket is not a stream socket.</exception>
    /// <exception cref="ObjectDisposedException">The socket or the loop is disposed.</exception>
    public LoopStream(Loop loop, Socket socket, LoopStreamOptions? options = null)
        : this(loop, FdOwner.Acquire(socket, "LoopStream(Socket)", requireStream: true), AsSocketOptions(options))
    {
    }

    /// <summary>
    /// Wraps the fd held by <paramref name="handle"/> (a connected, non-blocking socket, pipe or tty), keeping the handle
    /// alive while the stream uses it. With <see cref="LoopStreamOptions.OwnsFd"/> (the default) the stream disposes the
    /// handle when it closes; otherwise it only releases its reference and the handle stays the caller's.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The handle or the loop is disposed.</exception>
    /// <exception cref="ArgumentException">The handle is invalid.</exception>
    public LoopStream(Loop loop, SafeHandle handle, LoopStreamOptions? options = null)
        : this(loop, FdOwner.Acquire(handle, null, "LoopStream(SafeHandle)"), options)
    {
    }

    private LoopStream(Loop loop, FdOwner owner, LoopStreamOptions? options) : this(loop, OwnerFd(owner, loop, options), options)
        => _owner = owner;

    private static int OwnerFd(FdOwner owner, Loop loop, LoopStreamOptions? options)
    {
        // A constructor chain cannot catch, so what the main constructor refuses is checked here first, releasing the
        // reference taken on the owner: a refused construction leaves the caller's socket as it was. (Past these checks
        // the main constructor cannot fail on an fd held open by its owner.)
        try
        {
            ArgumentNullException.ThrowIfNull(loop);
            (options ?? LoopStreamOptions.Default).Validate();
            LoopDisposal.ThrowIfDisposed(loop, nameof(LoopStream));
        }
        catch
        {
            owner.Release(dispose: false);
            throw;
        }
        return owner.Fd;
    }

    private static LoopStreamOptions AsSocketOptions(LoopStreamOptions? options)
        => options is null ? s_socketKind : options.FdKind == StreamFdKind.Socket ? options : CopyWithKind(options, StreamFdKind.Socket);

    private static readonly LoopStreamOptions s_socketKind = new() { FdKind = StreamFdKind.Socket };

    internal static LoopStreamOptions CopyWithKind(LoopStreamOptions o, StreamFdKind kind) => o with { FdKind = kind };

    /// <summary>Lets go of the Socket/SafeHandle owner, if any, once the stream is done with the fd.</summary>
    private void ReleaseOwner(bool dispose)
    {
        var owner = _owner;
        if (owner is null) return;
        _owner = null;
        owner.Release(dispose);
    }
}
