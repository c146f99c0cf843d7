using System.Net;
using System.Runtime.CompilerServices;
using LinuxEvent.Async;
using LinuxEvent.Seam;

namespace LinuxEvent;

public abstract partial class Loop
{
    // Per-fd-number state of the async API (above the seam: the side rule and the registration), created once per
    // number by the driver and reused.
    private readonly FdTable<IoFd> _ioFds = new();
    private Func<int, IoFd>? _createIoFd;

    /// <summary>The async state of every fd number seen so far (drivers walk it at disposal).</summary>
    internal FdTable<IoFd> IoFds => _ioFds;

    /// <summary>The async state of <paramref name="fd"/>, created on first use.</summary>
    internal IoFd IoFdOf(int fd) => _ioFds[fd] ?? _ioFds.GetOrAdd(fd, _createIoFd ??= Driver.CreateFdState);

    /// <summary>
    /// Reads from <paramref name="fd"/> at its current position. Result: bytes read, 0 at EOF. Reactor: tries read(2),
    /// awaits readability on EAGAIN. Proactor: submits a read. Cancelling the token cancels the kernel operation (or
    /// the readiness wait) and throws <see cref="OperationCanceledException"/>; no data is lost in a race: if the
    /// kernel delivered data first, the call returns it. Disposing the loop while the call is pending fails it with
    /// <see cref="ObjectDisposedException"/> (every async I/O call, both models). For long-lived fds see
    /// <see cref="Register"/>.
    /// </summary>
    /// <remarks>Rules (both models): loop thread only; at most one read-side (read, receive, accept) and one
    /// write-side (write, send, connect) operation may be pending per fd: a second one completes with
    /// <see cref="InvalidOperationException"/>. Errors are <see cref="LinuxEventException"/>s named after the syscall,
    /// e.g. <c>recv(fd=7)</c>.</remarks>
    public ValueTask<int> ReadAsync(int fd, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Read, fd, buffer, default, null, cancellationToken, "Loop.ReadAsync", null).AsValueTask();

    /// <summary>Writes to <paramref name="fd"/>. Result: bytes written, possibly fewer than the buffer holds (like write(2)).
    /// Same rules as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>.</summary>
    public ValueTask<int> WriteAsync(int fd, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Write, fd, default, buffer, null, cancellationToken, "Loop.WriteAsync", null).AsValueTask();

    /// <summary>Receives from a socket. Result: bytes received, 0 when the peer shut down its side. Same rules as
    /// <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>.</summary>
    public ValueTask<int> ReceiveAsync(int socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Receive, socket, buffer, default, null, cancellationToken, "Loop.ReceiveAsync", null).AsValueTask();

    /// <summary>Sends on a socket (MSG_NOSIGNAL). Result: bytes sent, possibly fewer than the buffer holds. Same rules
    /// as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>.</summary>
    public ValueTask<int> SendAsync(int socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Send, socket, default, buffer, null, cancellationToken, "Loop.SendAsync", null).AsValueTask();

    /// <summary>Accepts a connection; the result is the new fd (non-blocking, close-on-exec), owned by the caller.
    /// Same rules as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>.</summary>
    public ValueTask<int> AcceptAsync(int listeningSocket, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Accept, listeningSocket, default, default, null, cancellationToken, "Loop.AcceptAsync", null).AsValueTask();

    /// <summary>Connects <paramref name="socket"/> (non-blocking) to <paramref name="remote"/>. Failure throws
    /// <see cref="LinuxEventException"/> with the errno (e.g. ECONNREFUSED). Same rules as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>
    /// (a connect occupies the write side).</summary>
    public ValueTask ConnectAsync(int socket, EndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return StartIo(AsyncKind.Connect, socket, default, default, remote, cancellationToken, "Loop.ConnectAsync", null).AsVoidValueTask();
    }

    /// <summary>Sends the whole buffer, awaiting as often as needed.</summary>
    public async ValueTask SendAllAsync(int socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = await SendAsync(socket, buffer, cancellationToken).ConfigureAwait(true);
            buffer = buffer[n..];
        }
    }

    /// <summary>
    /// The one entry of every async I/O call (fd-number and <see cref="LoopFd"/>): the rules shared by both models,
    /// then the driver. <paramref name="via"/> is the registration the call was made through, if any; an fd-number
    /// call on a registered fd goes through its registration too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal IoStart StartIo(AsyncKind kind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote,
        CancellationToken token, string call, LoopFd? via)
    {
        if (!TryBeginIo(kind, fd, token, call, via, out var state, out var early)) return early;
        return Driver.Start(state, kind, buffer, constBuffer, remote, token);
    }

    /// <summary>
    /// The rules every async I/O call keeps before its driver sees it (both models, every kind): the fd is not negative,
    /// the caller is on the loop thread, the registration it came through is alive, the fd's side is free, the token
    /// is not cancelled. False with <paramref name="early"/> set when the call ends here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryBeginIo(AsyncKind kind, int fd, CancellationToken token, string call, LoopFd? via, out IoFd state, out IoStart early)
    {
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        CheckThread(call);
        state = IoFdOf(fd);
        if (via is not null) via.ThrowIfDisposed(call);
        bool reading = IsReadSide(kind);
        early = default;
        if (state.Side(reading) is not null) { early = IoStart.Failed(ThrowHelper.SideBusy(call, fd, reading)); return false; }
        if (token.IsCancellationRequested) { early = IoStart.Canceled(token); return false; }
        return true;
    }

    /// <summary>
    /// For drivers: takes a pooled awaitable for an operation that has to wait, and makes it the fd's pending operation
    /// of its side. The driver then arms it and calls <see cref="AsyncOp.Armed"/> as its last step.
    /// </summary>
    internal AsyncOp ParkIo(IoFd state, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote, CancellationToken token)
    {
        var op = RentAsyncOp(kind, token);
        op.TimeoutNs = _startingTimeoutNs;      // the deadline of the call being started (Loop.Deadlines.cs), if any
        op.Fd = state.Fd;
        op.Buffer = buffer;
        op.ConstBuffer = constBuffer;
        op.Remote = remote;
        op.Reading = IsReadSide(kind);
        state.Occupy(op);
        return op;
    }

    /// <summary>Read side: receive, read, accept, readability waits. Write side: everything else.</summary>
    internal static bool IsReadSide(AsyncKind kind) => kind is AsyncKind.Read or AsyncKind.Receive or AsyncKind.Accept or AsyncKind.WaitReadable
        or AsyncKind.ReceiveMessage;
}
