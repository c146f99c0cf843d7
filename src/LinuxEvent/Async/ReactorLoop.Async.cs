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
        // Persistent (LoopFd) mode: one edge-triggered registration for both directions, plus what is known about each
        // direction's readiness (true = try the syscall; false = wait for the next edge). See LoopFd's remarks.
        public LoopFd? Registration;
        public bool Readable, Writable;
        // May a short transfer clear the direction without an EAGAIN? Writes: any stream socket. Reads: TCP only, and
        // only until urgent data (EPOLLPRI) shows up; see NoteTransfer. ReadShutdown: the peer's FIN (or an error) has
        // been reported, so reads stay "ready" for good (they return 0 or the error at once).
        public bool ShortWriteRule, ShortReadRule, ReadShutdown;
        // Data arrived while nobody waited on this fd (a readable edge with no parked reader): the peer streams, so a
        // short read is likely followed by more data already queued; see NoteTransfer.
        public bool Streaming;
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
            var registered = RegisteredState(fd);
            bool reading = IsReadSide(kind);
            // Try first: most calls on a busy socket complete without waiting, and a completed ValueTask allocates
            // nothing. A registered fd whose direction is known not to be ready skips the attempt (it would be EAGAIN).
            if (registered is null || (reading ? registered.Readable : registered.Writable))
            {
                int r = Attempt(kind, fd, buffer.Span, constBuffer.Span);
                if (r >= 0)
                {
                    if (registered is not null) NoteTransfer(registered, kind, r, reading ? buffer.Length : constBuffer.Length);
                    return new ValueTask<int>(r);
                }
                if (r != -Errno.EAGAIN) return ValueTask.FromException<int>(Error(kind, fd, -r));
                if (registered is not null) SetReady(registered, reading, false);
            }
        }
        return Wait(kind, fd, buffer, constBuffer, token);
    }

    private static void SetReady(AsyncFd state, bool reading, bool ready)
    {
        if (reading) state.Readable = ready; else state.Writable = ready;
    }

    private AsyncFd? RegisteredState(int fd) => (uint)fd < (uint)_asyncFds.Length && _asyncFds[fd] is { Registration: not null } s ? s : null;

    /// <summary>
    /// A short transfer on a registered socket may mark the direction not ready without spending a syscall on the EAGAIN:
    /// <list type="bullet">
    /// <item>Write: a stream socket's send returns short only when its buffer is full, which sets SOCK_NOSPACE, so the
    /// kernel raises an EPOLLOUT edge once space frees up.</item>
    /// <item>Read, TCP only: tcp_recvmsg returns short when the receive queue is empty (data queued later raises a new
    /// edge) — or when it stops at the peer's FIN or at urgent data, with no new edge to come. Hence the registration
    /// asks for EPOLLRDHUP and EPOLLPRI: once a FIN/hang-up/error has been reported, reads stay ready for good; once
    /// urgent data has been, the rule is off for the fd. (A FIN that arrives after the report raises its own edge.)
    /// Unix stream sockets are excluded: unix_stream_read_generic also stops at an skb carrying SCM_RIGHTS or other
    /// credentials, with data still queued.</item>
    /// <item>A streaming peer (data arrived while nobody waited) most likely queued more while the caller processed the
    /// last read, so its short reads leave the next receive trying at once: waiting for the edge would cost a trip
    /// through epoll_pwait2 for data that is already there.</item>
    /// </list>
    /// </summary>
    private static void NoteTransfer(AsyncFd state, AsyncKind kind, int transferred, int requested)
    {
        if (transferred <= 0 || transferred >= requested) return;
        if (kind is AsyncKind.Receive or AsyncKind.Read)
        {
            if (state.ShortReadRule && !state.Streaming && !state.ReadShutdown) state.Readable = false;
        }
        else if (kind is AsyncKind.Send or AsyncKind.Write)
        {
            if (state.ShortWriteRule) state.Writable = false;
        }
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
        if (state.Registration is not null)
        {
            // The registration is permanent: nothing to arm. A readiness wait checks the level once, since an edge that
            // was already consumed will not come again (poll(2) with a zero timeout; not a hot path).
            if (kind is AsyncKind.WaitReadable or AsyncKind.WaitWritable)
            {
                int revents = Posix.TryPollNow(fd, kind == AsyncKind.WaitReadable ? (short)(Libc.POLLIN | Libc.POLLRDHUP) : Libc.POLLOUT);
                if (revents != 0)
                {
                    if (reading) state.Reader = null; else state.Writer = null;
                    if (revents > 0)
                    {
                        // The level is there: so is the direction's readiness (this also repairs a bit that is wrongly clear).
                        SetReady(state, reading, true);
                        op.Complete(0);
                    }
                    else op.Fail(new LinuxEventException(-revents, $"poll(fd={fd})"));
                }
            }
        }
        else
        {
            int err = Arm(state, fd);
            if (err != 0)
            {
                if (reading) state.Reader = null; else state.Writer = null;
                op.Fail(new LinuxEventException(err, $"epoll_ctl(fd={fd})"));
            }
        }
        op.Armed();         // no-op if arming failed and settled the use
        return (op, null);
    }

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
        if (state.Registration is not null)
        {
            // An edge: that direction may be ready again (a stale edge costs one EAGAIN, which clears it again).
            // A readable edge with no reader parked means the data came while the fd's user was busy elsewhere.
            // Dispatch gives every report with a FIN, hang-up, error or urgent data to the readable side.
            if (readable)
            {
                state.Readable = true;
                state.Streaming = state.Reader is null;
                uint events = w.LastEvents;
                if ((events & (Libc.EPOLLRDHUP | Libc.EPOLLHUP | Libc.EPOLLERR)) != 0) state.ReadShutdown = true;
                if ((events & Libc.EPOLLPRI) != 0) state.ShortReadRule = false;
            }
            else state.Writable = true;
        }
        // Readable also covers EOF/hang-up; a pending writer is retried then too so that it sees EPIPE/ECONNRESET
        // instead of waiting for an EPOLLOUT that a dead connection never sends.
        if (readable)
        {
            if (state.Reader is { } r) TryComplete(state, r, fd, reader: true);
            if (state.Writer is { } wr && !wr.Kind.Equals(AsyncKind.WaitWritable)) TryComplete(state, wr, fd, reader: false);
        }
        else if (state.Writer is { } wr2) TryComplete(state, wr2, fd, reader: false);
        if (state.Registration is null && (state.Reader is not null || state.Writer is not null) && w.Active)
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
                // A registered socket may carry an edge from before the connect started (an unconnected TCP socket
                // polls as EPOLLOUT|EPOLLHUP): only a writable or failed socket has finished connecting.
                int level = 0;
                if (state.Registration is not null && ((level = Posix.TryPollNow(fd, Libc.POLLOUT | Libc.POLLRDHUP)) & (Libc.POLLOUT | Libc.POLLERR)) == 0) return;
                int soError = Posix.GetSocketError(fd);
                if (soError == Errno.EINPROGRESS || soError == Errno.EALREADY) return;
                r = soError == 0 ? 0 : -soError;
                // The hang-up an unconnected socket reported before the connect is over; a real one shows in the level.
                if (r == 0 && state.Registration is not null) state.ReadShutdown = level > 0 && (level & (Libc.POLLRDHUP | Libc.POLLHUP | Libc.POLLERR)) != 0;
                break;
            default:
                r = Attempt(op.Kind, fd, op.Buffer.Span, op.ConstBuffer.Span);
                if (r == -Errno.EAGAIN)
                {
                    // spurious wakeup: stay armed (registered: wait for the next edge)
                    if (state.Registration is not null) SetReady(state, reader, false);
                    return;
                }
                if (state.Registration is not null) NoteTransfer(state, op.Kind, r, reader ? op.Buffer.Length : op.ConstBuffer.Length);
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

    // ------------------------------------------------------------------ LoopFd (persistent registration)

    private protected override void RegisterFd(LoopFd registration)
    {
        int fd = registration.Fd;
        // A closed fd is refused with EBADF before anything changes (epoll_ctl would say so too, the fake would not).
        if (!Posix.IsOpen(fd)) throw new LinuxEventException(Errno.EBADF, $"ReactorLoop.Register(fd={fd})");
        var state = AsyncFdFor(fd);
        if (state.Registration is not null)
            throw new InvalidOperationException($"ReactorLoop.Register: fd {fd} is already registered; dispose its LoopFd first.");
        if (state.Reader is not null || state.Writer is not null)
            throw new InvalidOperationException($"ReactorLoop.Register: fd {fd} has a pending async operation; await it first.");
        if (fd < _watchers.Length && _watchers[fd] is { Active: true } other && !ReferenceEquals(other, state.Watcher))
            throw new InvalidOperationException($"ReactorLoop.Register: fd {fd} has a Watcher; cancel it first.");
        // Replaces the fd-number path's one-shot watcher if there was one (MOD, or ADD if the number was reused).
        // Throws LinuxEventException with nothing changed if epoll refuses the fd.
        // EPOLLRDHUP and EPOLLPRI: the short-read rule must see a FIN and urgent data (NoteTransfer).
        var w = WatchCore(fd, WatchOptions.Read | WatchOptions.Write | WatchOptions.EdgeTriggered, s_asyncReadable, s_asyncWritable,
            onError: null, extraEvents: Libc.EPOLLRDHUP | Libc.EPOLLPRI);
        w.Data = state;
        state.Watcher = w;
        state.Registration = registration;
        state.Readable = state.Writable = true;          // unknown: the first attempt finds out
        state.Streaming = state.ReadShutdown = false;
        (state.ShortWriteRule, state.ShortReadRule) = Posix.StreamSocketKind(fd);
    }

    internal override void UnregisterFd(LoopFd registration)
    {
        CheckThreadOnly("LoopFd.Dispose");              // valid while disposal is requested, before its hooks run
        int fd = registration.Fd;
        if (RegisteredState(fd) is not { } state || !ReferenceEquals(state.Registration, registration)) return;
        state.Registration = null;
        state.Readable = state.Writable = false;
        if (state.Watcher is { } w) { CancelWatcher(w); state.Watcher = null; }
        FailAll(state, new ObjectDisposedException(nameof(LoopFd), $"LoopFd(fd={fd}) was disposed while the operation was pending."));
    }

    internal override ValueTask<int> RegisteredIo(LoopFd registration, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        CancellationToken token, string call)
    {
        registration.ThrowIfDisposed(call);
        return Start(kind, registration.Fd, buffer, constBuffer, token, call);
    }

    internal override ValueTask RegisteredConnect(LoopFd registration, EndPoint remote, CancellationToken token)
    {
        registration.ThrowIfDisposed(nameof(LoopFd.ConnectAsync));
        return ConnectAsync(registration.Fd, remote, token);
    }

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
