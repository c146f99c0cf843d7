using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LinuxEvent.Net;

/// <summary>
/// Keeps the owner of an fd that was handed in as a <see cref="Socket"/> or a <see cref="SafeHandle"/> alive while a
/// component uses the fd, and releases it exactly once.
/// </summary>
/// <remarks>
/// The handle's reference count is raised (<see cref="SafeHandle.DangerousAddRef"/>) for the component's life: a
/// <c>Dispose</c> of the handle by someone else meanwhile then only marks it, and the fd is closed when the component
/// lets go, never under an operation the loop still runs on it. The raw fd number is what the loop uses inside (no
/// SafeHandle marshalling per syscall).
/// </remarks>
internal sealed class FdOwner
{
    private readonly SafeHandle _handle;
    private readonly Socket? _socket;
    private int _released;

    private FdOwner(SafeHandle handle, Socket? socket, int fd)
    {
        _handle = handle;
        _socket = socket;
        Fd = fd;
    }

    /// <summary>The fd the owner holds.</summary>
    public int Fd { get; }

    /// <summary>The socket handed in, if it was one.</summary>
    public Socket? Socket => _socket;

    /// <summary>What owns the fd for the caller: the socket, or else the handle.</summary>
    public object Holder => (object?)_socket ?? _handle;

    /// <summary>Takes a reference on <paramref name="socket"/>'s handle and makes it non-blocking.</summary>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    /// <exception cref="ArgumentException">The socket is not a stream socket (when <paramref name="requireStream"/>).</exception>
    public static FdOwner Acquire(Socket socket, string call, bool requireStream)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (requireStream && socket.SocketType != SocketType.Stream)
            throw new ArgumentException($"{call}: the socket must be a stream socket (it is {socket.SocketType}).", nameof(socket));
        // The loop's calls assume a non-blocking fd; the Socket object keeps working in that mode too.
        socket.Blocking = false;
        var owner = Acquire(socket.SafeHandle, socket, call);
        return owner;
    }

    /// <summary>Takes a reference on <paramref name="handle"/>.</summary>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    /// <exception cref="ArgumentException">The handle is invalid.</exception>
    public static FdOwner Acquire(SafeHandle handle, Socket? socket, string call)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.IsClosed) throw new ObjectDisposedException(handle.GetType().Name, $"{call}: the handle is closed.");
        if (handle.IsInvalid) throw new ArgumentException($"{call}: the handle is invalid.", nameof(handle));
        bool added = false;
        handle.DangerousAddRef(ref added);
        long raw = handle.DangerousGetHandle();
        if (raw is < 0 or > int.MaxValue)
        {
            handle.DangerousRelease();
            throw new ArgumentException($"{call}: the handle ({raw}) is not an fd.", nameof(handle));
        }
        return new FdOwner(handle, socket, (int)raw);
    }

    /// <summary>Drops the reference; with <paramref name="dispose"/> also disposes the socket (or handle), which
    /// closes the fd once no other reference remains. Idempotent.</summary>
    public void Release(bool dispose)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _handle.DangerousRelease();
        if (!dispose) return;
        if (_socket is not null) _socket.Dispose();
        else _handle.Dispose();
    }
}
