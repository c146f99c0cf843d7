using System.Net;
using LinuxEvent.Async;
using LinuxEvent.Native;

namespace LinuxEvent;

public sealed partial class ReactorLoop
{
    /// <summary>
    /// Readiness state of an fd used with the async API: one one-shot epoll registration per fd number, re-armed for
    /// the waiters present (EPOLLONESHOT + EPOLL_CTL_MOD per wait). One-shot re-arming is chosen over a permanent
    /// edge-triggered registration because the API takes raw fds: if the caller closes an fd and the number is
    /// reused, MOD fails with ENOENT and we re-ADD the new file, instead of waiting forever on a registration the
    /// kernel silently dropped. The state object is kept per fd number and reused, so a connection costs no allocation
    /// once its number has been seen.
    /// </summary>
    private sealed class AsyncFd
    {
        public Watcher? Watcher;
        public AsyncOp? Reader, Writer;
    }

    private AsyncFd?[] _asyncFds = new AsyncFd?[64];
    private static readonly Action<Watcher> s_asyncReadable = static w => ((ReactorLoop)w.Loop).OnAsyncReady((AsyncFd)w.Data!, readable: true);
    private static readonly Action<Watcher> s_asyncWritable = static w => ((ReactorLoop)w.Loop).OnAsyncReady((AsyncFd)w.Data!, readable: false);

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(int fd, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Start(AsyncKind.Read, fd, buffer, default, cancellationToken, nameof(ReadAsync));

    /// <inheritdoc />
    public override ValueTask<int> WriteAsync(int fd, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Start(AsyncKind.Write, fd, default, buffer, cancellationToken, nameof(WriteAsync));

    /// <inheritdoc />
    public override ValueTask<int> ReceiveAsync(int socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Start(AsyncKind.Receive, socket, buffer, default, cancellationToken, nameof(ReceiveAsync));

    /// <inheritdoc />
    public override ValueTask<int> SendAsync(int socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Start(AsyncKind.Send, socket, default, buffer, cancellationToken, nameof(SendAsync));

    /// <inheritdoc />
    public override ValueTask<int> AcceptAsync(int listeningSocket, CancellationToken cancellationToken = default)
        => Start(AsyncKind.Accept, listeningSocket, default, default, cancellationToken, nameof(AcceptAsync));

    /// <summary>Completes when <paramref name="fd"/> is readable (or at EOF/error).</summary>
    public ValueTask WaitReadableAsync(int fd, CancellationToken cancellationToken = default)
        => WaitVoid(AsyncKind.WaitReadable, fd, cancellationToken, nameof(WaitReadableAsync));

    /// <summary>Completes when <paramref name="fd"/> is writable (or on error).</summary>
    public ValueTask WaitWritableAsync(int fd, CancellationToken cancellationToken = default)
        => WaitVoid(AsyncKind.WaitWritable, fd, cancellationToken, nameof(WaitWritableAsync));

    private ValueTask WaitVoid(AsyncKind kind, int fd, CancellationToken token, string call)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, $"ReactorLoop.{call}: the fd must not be negative.");
        CheckThread(call);
        if (token.IsCancellationRequested) return ValueTask.FromCanceled(token);
        var (op, error) = WaitOp(kind, fd, default, default, token);
        return op is not null ? new ValueTask(op, op.Version) : ValueTask.FromException(error!);
    }

    /// <inheritdoc />
    public override ValueTask ConnectAsync(int socket, EndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (socket < 0) throw new ArgumentOutOfRangeException(nameof(socket), socket, "ReactorLoop.ConnectAsync: the fd must not be negative.");
        CheckThread(nameof(ConnectAsync));
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        int rc = Posix.TryConnect(socket, remote);
        if (rc == 0) return ValueTask.CompletedTask;
        if (rc != -Errno.EINPROGRESS) return ValueTask.FromException(new LinuxEventException(-rc, $"connect(fd={socket}, {remote})"));
        var (op, error) = WaitOp(AsyncKind.Connect, socket, default, default, cancellationToken);
        return op is not null ? new ValueTask(op, op.Version) : ValueTask.FromException(error!);
    }

    private ValueTask<int> Start(AsyncKind kind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, CancellationToken token, string call)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, $"ReactorLoop.{call}: the fd must not be negative.");
        CheckThread(call);
        if (token.IsCancellationRequested) return Canceled(token);
        if (kind is not (AsyncKind.WaitReadable or AsyncKind.WaitWritable))
        {
            // Try first: most calls on a busy socket complete without waiting, and a completed ValueTask allocates nothing.
            int r = Attempt(kind, fd, buffer.Span, constBuffer.Span);
            if (r >= 0) return new ValueTask<int>(r);
            if (r != -Errno.EAGAIN) return ValueTask.FromException<int>(Error(kind, fd, -r));
        }
        return Wait(kind, fd, buffer, constBuffer, token);
    }

    private ValueTask<int> Wait(AsyncKind kind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, CancellationToken token)
    {
        var (op, error) = WaitOp(kind, fd, buffer, constBuffer, token);
        return op is not null ? new ValueTask<int>(op, op.Version) : ValueTask.FromException<int>(error!);
    }

    /// <summary>Parks a pooled awaitable on <paramref name="fd"/>'s readiness; (null, error) if it cannot wait.</summary>
    private (AsyncOp? Op, Exception? Error) WaitOp(AsyncKind kind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, CancellationToken token)
    {
        var state = AsyncFdFor(fd);
        bool reading = IsReadSide(kind);
        if ((reading ? state.Reader : state.Writer) is not null)
            return (null, new InvalidOperationException(
                $"ReactorLoop: another {(reading ? "read-side" : "write-side")} async operation is already pending on fd {fd}; await it first."));
        var op = RentAsyncOp(kind, token);
        op.Fd = fd;
        op.Buffer = buffer;
        op.ConstBuffer = constBuffer;
        op.ModelState = state;
        if (reading) state.Reader = op; else state.Writer = op;
        int err = Arm(state, fd);
        if (err != 0)
        {
            if (reading) state.Reader = null; else state.Writer = null;
            op.Fail(new LinuxEventException(err, $"epoll_ctl(fd={fd})"));
        }
        op.Armed();         // no-op if arming failed and settled the use
        return (op, null);
    }

    private static bool IsReadSide(AsyncKind kind) => kind is AsyncKind.Read or AsyncKind.Receive or AsyncKind.Accept or AsyncKind.WaitReadable;

    private AsyncFd AsyncFdFor(int fd)
    {
        if (fd >= _asyncFds.Length)
        {
            int n = _asyncFds.Length;
            while (n <= fd) n *= 2;
            Array.Resize(ref _asyncFds, n);
        }
        return _asyncFds[fd] ??= new AsyncFd();
    }

    /// <summary>Registers or re-arms the one-shot registration for the waiters present. Returns 0 or an errno.</summary>
    private int Arm(AsyncFd state, int fd)
    {
        var w = state.Watcher;
        uint events = Libc.EPOLLONESHOT | (state.Reader is not null ? Libc.EPOLLIN | Libc.EPOLLRDHUP : 0) | (state.Writer is not null ? Libc.EPOLLOUT : 0);
        if (w is null || !w.Active || !ReferenceEquals(fd < _watchers.Length ? _watchers[fd] : null, w))
        {
            try
            {
                w = Watch(fd, WatchOptions.OneShot, s_asyncReadable, s_asyncWritable);
            }
            catch (LinuxEventException ex) { return ex.Errno; }
            w.Data = state;
            state.Watcher = w;
        }
        w.ReadEnabled = state.Reader is not null;
        w.WriteEnabled = state.Writer is not null;
        ulong data = ((ulong)w.Generation << 32) | (uint)fd;
        int err = _backend.Control(Libc.EPOLL_CTL_MOD, fd, events, data);
        if (err == Errno.ENOENT) err = _backend.Control(Libc.EPOLL_CTL_ADD, fd, events, data);   // fd number reused by a new file
        if (err == 0) { w.Registered = true; w.Armed = true; }
        return err;
    }

    private void OnAsyncReady(AsyncFd state, bool readable)
    {
        var w = state.Watcher!;
        int fd = w.Fd;
        // Readable also covers EOF/hang-up; a pending writer is retried then too so that it sees EPIPE/ECONNRESET
        // instead of waiting for an EPOLLOUT that a dead connection never sends.
        if (readable)
        {
            if (state.Reader is { } r) TryComplete(state, r, fd, reader: true);
            if (state.Writer is { } wr && !wr.Kind.Equals(AsyncKind.WaitWritable)) TryComplete(state, wr, fd, reader: false);
        }
        else if (state.Writer is { } wr2) TryComplete(state, wr2, fd, reader: false);
        if ((state.Reader is not null || state.Writer is not null) && w.Active)
        {
            int err = Arm(state, fd);
            if (err != 0) FailAll(state, new LinuxEventException(err, $"epoll_ctl(MOD, fd={fd})"));
        }
    }

    private void TryComplete(AsyncFd state, AsyncOp op, int fd, bool reader)
    {
        int r;
        switch (op.Kind)
        {
            case AsyncKind.WaitReadable:
            case AsyncKind.WaitWritable:
                r = 0;
                break;
            case AsyncKind.Connect:
                int soError = Posix.GetSocketError(fd);
                if (soError == Errno.EINPROGRESS || soError == Errno.EALREADY) return;
                r = soError == 0 ? 0 : -soError;
                break;
            default:
                r = Attempt(op.Kind, fd, op.Buffer.Span, op.ConstBuffer.Span);
                if (r == -Errno.EAGAIN) return;        // spurious wakeup: stay armed
                break;
        }
        if (reader) state.Reader = null; else state.Writer = null;
        if (r >= 0) op.Complete(r);
        else op.Fail(Error(op.Kind, fd, -r));
    }

    private static void FailAll(AsyncFd state, Exception error)
    {
        var r = state.Reader; var w = state.Writer;
        state.Reader = null; state.Writer = null;
        r?.Fail(error);
        w?.Fail(error);
    }

    private static int Attempt(AsyncKind kind, int fd, Span<byte> buffer, ReadOnlySpan<byte> constBuffer) => kind switch
    {
        AsyncKind.Read => Posix.TryRead(fd, buffer),
        AsyncKind.Write => Posix.TryWrite(fd, constBuffer),
        AsyncKind.Receive => Posix.TryReceive(fd, buffer),
        AsyncKind.Send => Posix.TrySend(fd, constBuffer),
        AsyncKind.Accept => Posix.TryAccept(fd),
        _ => 0,
    };

    private static LinuxEventException Error(AsyncKind kind, int fd, int errno) => new(errno, kind switch
    {
        AsyncKind.Read => $"read(fd={fd})",
        AsyncKind.Write => $"write(fd={fd})",
        AsyncKind.Receive => $"recv(fd={fd})",
        AsyncKind.Send => $"send(fd={fd})",
        AsyncKind.Accept => $"accept4(fd={fd})",
        AsyncKind.Connect => $"connect(fd={fd})",
        _ => $"epoll(fd={fd})",
    });

    /// <summary>Disposal: every pending readiness wait completes with <see cref="ObjectDisposedException"/>.</summary>
    private void FailPendingAsync()
    {
        foreach (var state in _asyncFds)
            if (state is not null && (state.Reader is not null || state.Writer is not null))
                FailAll(state, new ObjectDisposedException(nameof(ReactorLoop), "The loop was disposed while the operation was waiting."));
    }

    private protected override void CancelAsyncIo(AsyncOp op)
    {
        if (op.ModelState is AsyncFd state)
        {
            if (ReferenceEquals(state.Reader, op)) state.Reader = null;
            if (ReferenceEquals(state.Writer, op)) state.Writer = null;
            // The one-shot registration may stay armed; a later report finds no waiter and is ignored.
        }
        op.Cancelled();
    }
}
