using System.Net;
using System.Net.Sockets;
using LinuxEvent.Async;
using LinuxEvent.Datagrams;

namespace LinuxEvent;

// The deadline overloads on a registered fd: the loop's TimeSpan-timeout calls without the fd argument (same rules,
// same models; see Loop.ReadAsync(int, Memory<byte>, TimeSpan, CancellationToken) for the deadline's contract).
public sealed partial class LoopFd
{
    /// <summary><see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/> with a deadline: throws
    /// <see cref="LinuxEventTimeoutException"/> if nothing arrived within <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: none). See <see cref="Loop.ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Receive, Fd, buffer, default, null, cancellationToken, "LoopFd.ReceiveAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.ReceiveAsync")).AsValueTask();

    /// <summary><see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Send, Fd, default, buffer, null, cancellationToken, "LoopFd.SendAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.SendAsync")).AsValueTask();

    /// <summary><see cref="ReadAsync(Memory{byte}, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Read, Fd, buffer, default, null, cancellationToken, "LoopFd.ReadAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.ReadAsync")).AsValueTask();

    /// <summary><see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Write, Fd, default, buffer, null, cancellationToken, "LoopFd.WriteAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.WriteAsync")).AsValueTask();

    /// <summary><see cref="AcceptAsync(CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Accept, Fd, default, default, null, cancellationToken, "LoopFd.AcceptAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.AcceptAsync")).AsValueTask();

    /// <summary><see cref="ConnectAsync(EndPoint, CancellationToken)"/> with a deadline (a connect timeout).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask ConnectAsync(EndPoint remote, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return Loop.StartIo(AsyncKind.Connect, Fd, default, default, remote, cancellationToken, "LoopFd.ConnectAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.ConnectAsync")).AsVoidValueTask();
    }

    /// <summary><see cref="ReadAtAsync(Memory{byte}, long, CancellationToken)"/> with a deadline; see
    /// <see cref="Loop.ReadAtAsync(int, Memory{byte}, long, TimeSpan, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="offset"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReadAtAsync(Memory<byte> buffer, long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.ReadAtCore(Fd, buffer, offset, cancellationToken, "LoopFd.ReadAtAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.ReadAtAsync")).AsValueTask();

    /// <summary><see cref="WriteAtAsync(ReadOnlyMemory{byte}, long, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="offset"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> WriteAtAsync(ReadOnlyMemory<byte> buffer, long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
        => Loop.WriteAtCore(Fd, buffer, offset, cancellationToken, "LoopFd.WriteAtAsync", this,
            Loop.TimeoutNsOf(timeout, "LoopFd.WriteAtAsync")).AsValueTask();

    /// <summary><see cref="SendToAsync(ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> buffer, EndPoint remote, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        const string call = "LoopFd.SendToAsync";
        Loop.CheckMessageArguments(remote, remoteRequired: true, default, call);
        long ns = Loop.TimeoutNsOf(timeout, call);
        return Loop.StartMessageIo(AsyncKind.SendMessage, Fd, new MessageRequest(default, buffer, remote, default, default, false),
            cancellationToken, call, this, ns).AsValueTask();
    }

    /// <summary><see cref="ReceiveFromAsync(Memory{byte}, CancellationToken)"/> with a deadline.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        const string call = "LoopFd.ReceiveFromAsync";
        long ns = Loop.TimeoutNsOf(timeout, call);
        return Loop.AsReceiveFrom(Loop.StartMessageIo(AsyncKind.ReceiveMessage, Fd, new MessageRequest(buffer, default, null, default, default, true),
            cancellationToken, call, this, ns));
    }
}
