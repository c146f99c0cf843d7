using System.Net;
using LinuxEvent.Async;

namespace LinuxEvent;

/// <summary>
/// An fd registered with one loop for async I/O for as long as this object lives (<see cref="Loop.Register"/>).
/// It is the fast path for long-lived sockets: the same operations as the loop's fd-number methods
/// (<see cref="Loop.ReceiveAsync(int, Memory{byte}, CancellationToken)"/> and so on), with a registration made once instead of per wait.
/// </summary>
/// <remarks>
/// <para><b>Reactor:</b> the fd is added to epoll once, edge-triggered for both directions (EPOLLIN | EPOLLOUT |
/// EPOLLRDHUP | EPOLLPRI | EPOLLET), and the loop tracks whether each direction is known to be ready. An operation
/// whose direction is not ready parks without a syscall; an edge marks it ready and retries it. After a short write
/// on a stream socket, or a short read on a TCP socket, that direction is marked not ready without probing the kernel
/// for EAGAIN (except once the peer's FIN has been reported, or for a peer that streams). A request/response
/// connection over TCP therefore costs one recv and one send per exchange plus a share of one epoll_pwait2, with no
/// epoll_ctl: the fd-number methods need one EPOLL_CTL_MOD per wait and an extra recv returning EAGAIN. Unix stream
/// sockets, datagram sockets and pipes learn "not ready" from EAGAIN only (docs/design.md explains why).</para>
/// <para><b>Proactor:</b> operations are submitted as with the fd-number methods; the registration records the
/// pending operations so that <see cref="Dispose"/> can cancel them.</para>
/// <para><b>Rules</b> (both models, loop thread only): at most one read-side operation (receive, read, accept) and one
/// write-side operation (send, write, connect) may be pending at a time; a second one completes with
/// <see cref="InvalidOperationException"/>. While registered, the fd must not be closed except through
/// <see cref="Dispose"/>: on the reactor a closed fd silently leaves epoll, and an fd that later reuses the number would
/// wait forever. <see cref="ReactorLoop.Watch"/> and <see cref="Loop.Register"/> refuse an fd that is registered.
/// The fd-number methods of the loop may still be used on a registered fd and share its registration.</para>
/// <para><b>Ownership:</b> with <c>ownsFd: true</c> the fd is closed by <see cref="Dispose"/>, or when the loop is
/// disposed first (the registration then ends with it, and a later <see cref="Dispose"/> does nothing); otherwise the
/// caller closes it after disposing the registration.</para>
/// <para><b>Loop disposal:</b> pending operations fail with <see cref="ObjectDisposedException"/>, on both models.</para>
/// <para><b>Files:</b> a regular file can be registered on both models (the reactor keeps it out of epoll, which
/// refuses it); its file operations (<see cref="ReadAtAsync(Memory{byte}, long, CancellationToken)"/> and the others in
/// <c>LoopFd.Files.cs</c>) follow the loop's file rules: they occupy no side, so any number may be pending.</para>
/// <para><b>Register first:</b> register an fd before starting operations on it. On the proactor an fd-number
/// operation already pending when the fd is registered is not tracked: <see cref="Dispose"/> does not cancel it.</para>
/// </remarks>
public sealed partial class LoopFd : LoopComponent, IDisposable
{
    private int _disposed;                // 0, then 1 exactly once: Dispose and the loop's disposal may race

    internal LoopFd(Loop loop, int fd, bool ownsFd) : base(loop)
    {
        Fd = fd;
        OwnsFd = ownsFd;
    }

    internal void Attach() => AttachToLoop();

    /// <summary>The registered fd.</summary>
    public int Fd { get; }

    /// <summary>Whether <see cref="Dispose"/> closes the fd.</summary>
    public bool OwnsFd { get; }

    /// <summary>True once <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Receives into <paramref name="buffer"/>: bytes received, 0 when the peer shut down its side.
    /// Cancelling the token completes the call with <see cref="OperationCanceledException"/>, unless the kernel
    /// delivered data first: then the data is returned (nothing is lost).</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Receive, Fd, buffer, default, null, cancellationToken, "LoopFd.ReceiveAsync", this).AsValueTask();

    /// <summary>Sends (MSG_NOSIGNAL): bytes sent, possibly fewer than the buffer holds.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Send, Fd, default, buffer, null, cancellationToken, "LoopFd.SendAsync", this).AsValueTask();

    /// <summary>read(2) at the fd's position: bytes read, 0 at EOF.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Read, Fd, buffer, default, null, cancellationToken, "LoopFd.ReadAsync", this).AsValueTask();

    /// <summary>write(2): bytes written, possibly fewer than the buffer holds.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Write, Fd, default, buffer, null, cancellationToken, "LoopFd.WriteAsync", this).AsValueTask();

    /// <summary>Accepts a connection on a registered listening socket; the result is the new fd (non-blocking,
    /// close-on-exec), owned by the caller and not registered.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> AcceptAsync(CancellationToken cancellationToken = default)
        => Loop.StartIo(AsyncKind.Accept, Fd, default, default, null, cancellationToken, "LoopFd.AcceptAsync", this).AsValueTask();

    /// <summary>Connects the registered socket to <paramref name="remote"/>; failure throws <see cref="LinuxEventException"/>
    /// with the errno (e.g. ECONNREFUSED).</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask ConnectAsync(EndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return Loop.StartIo(AsyncKind.Connect, Fd, default, default, remote, cancellationToken, "LoopFd.ConnectAsync", this).AsVoidValueTask();
    }

    /// <summary>Sends one datagram to <paramref name="remote"/>; see <see cref="Loop.SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> buffer, EndPoint remote, CancellationToken cancellationToken = default)
    {
        const string call = "LoopFd.SendToAsync";
        Loop.CheckMessageArguments(remote, remoteRequired: true, default, call);
        return Loop.StartMessageIo(AsyncKind.SendMessage, Fd, new Datagrams.MessageRequest(default, buffer, remote, default, default, false),
            cancellationToken, call, this).AsValueTask();
    }

    /// <summary>Receives one datagram and its sender; a truncated datagram throws <see cref="DatagramTruncatedException"/>.
    /// See <see cref="Loop.ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<System.Net.Sockets.SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Loop.AsReceiveFrom(Loop.StartMessageIo(AsyncKind.ReceiveMessage, Fd, new Datagrams.MessageRequest(buffer, default, null, default, default, true),
            cancellationToken, "LoopFd.ReceiveFromAsync", this));

    /// <summary>sendmsg(2) with an optional destination and SCM_RIGHTS fds; see <see cref="Loop.SendMessageAsync"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> SendMessageAsync(ReadOnlyMemory<byte> buffer, EndPoint? remote, ReadOnlyMemory<int> fds, CancellationToken cancellationToken = default)
    {
        const string call = "LoopFd.SendMessageAsync";
        Loop.CheckMessageArguments(remote, remoteRequired: false, fds.Span, call);
        return Loop.StartMessageIo(AsyncKind.SendMessage, Fd, new Datagrams.MessageRequest(default, buffer, remote, fds, default, false),
            cancellationToken, call, this).AsValueTask();
    }

    /// <summary>recvmsg(2) with the sender, SCM_RIGHTS fds and truncation flags; see <see cref="Loop.ReceiveMessageAsync"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<ReceiveMessageResult> ReceiveMessageAsync(Memory<byte> buffer, Memory<int> fds, CancellationToken cancellationToken = default)
        => Loop.AsReceiveMessage(Loop.StartMessageIo(AsyncKind.ReceiveMessage, Fd,
            new Datagrams.MessageRequest(buffer, default, null, default, fds.Length > Native.Libc.SCM_MAX_FD ? fds[..Native.Libc.SCM_MAX_FD] : fds, false),
            cancellationToken, "LoopFd.ReceiveMessageAsync", this));

    /// <summary>Sends the whole buffer, awaiting as often as needed.</summary>
    public async ValueTask SendAllAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = await SendAsync(buffer, cancellationToken).ConfigureAwait(true);
            buffer = buffer[n..];
        }
    }

    /// <summary>
    /// Ends the registration: pending operations complete with <see cref="ObjectDisposedException"/> (on the proactor
    /// their kernel operations are cancelled first, and one that had already completed in the kernel still delivers
    /// its result, so no received data or accepted fd is lost). File operations (<see cref="ReadAtAsync(Memory{byte}, long, CancellationToken)"/>
    /// and the others) that have not started complete the same way; one already running delivers its result (the
    /// reactor waits for its worker to leave the syscall, bounded, before the fd is closed). Then closes the fd if <see cref="OwnsFd"/>.
    /// Idempotent. Loop thread only while the loop runs; any thread after the loop was disposed (while another thread is
    /// still tearing the loop down, the loop's disposal ends the registration instead and this call returns at once).
    /// </summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        // Until the loop's disposal has run its hooks (not merely been requested), the loop may still use the fd and a
        // proactor may still hold requests naming it: end the registration properly, on the loop thread. If another
        // thread is tearing the loop down right now, its disposal hook ends this registration (and closes an owned fd).
        if (!Loop.ComponentsReleased)
        {
            if (Loop.IsTornDownElsewhere) return;
            Loop.Unregister(this);                       // checks the thread before anything changes
            DetachFromLoop();
        }
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        CloseOwned();
    }

    /// <summary>The loop is being disposed (its pending operations have already failed): the registration ends with
    /// it, and an owned fd is closed now rather than leaked.</summary>
    protected internal override void OnLoopDisposing()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        CloseOwned();
    }

    internal void ThrowIfDisposed(string call)
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(LoopFd), $"LoopFd.{call}: fd {Fd}'s registration was disposed.");
    }

    /// <inheritdoc />
    public override string ToString() => $"LoopFd(fd={Fd}, owns={OwnsFd}, disposed={IsDisposed})";
}
