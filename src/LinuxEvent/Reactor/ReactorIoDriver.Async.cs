using System.Net;
using LinuxEvent.Async;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

internal sealed partial class ReactorIoDriver
{
    // One-shot re-arming is used for fd-number calls: the API takes raw fds, so if the caller closes an fd and its number
    // is reused, EPOLL_CTL_MOD fails with ENOENT and the new file is added, instead of waiting forever on a registration
    // the kernel silently dropped. A LoopFd makes the fd's lifetime explicit and registers it once, edge-triggered.
    private static readonly Action<Watcher> s_asyncReadable = static w => w.Driver.OnAsyncReady((ReactorFd)w.Data!, readable: true);
    private static readonly Action<Watcher> s_asyncWritable = static w => w.Driver.OnAsyncReady((ReactorFd)w.Data!, readable: false);

    public override IoFd CreateFdState(int fd) => new ReactorFd(fd);

    public override IoStart Start(IoFd fdState, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote,
        CancellationToken token)
    {
        var state = (ReactorFd)fdState;
        int fd = state.Fd;
        bool registered = state.Registration is not null;
        bool reading = Loop.IsReadSide(kind);
        if (kind == AsyncKind.Connect)
        {
            int rc = Sys.Connect(fd, remote!);
            if (rc == 0) return IoStart.Done(0);
            if (rc != -Errno.EINPROGRESS) return IoStart.Failed(new LinuxEventSocketException(-rc, $"connect(fd={fd}, {remote})"));
        }
        else if (kind is not (AsyncKind.WaitReadable or AsyncKind.WaitWritable))
        {
            // Try first: most calls on a busy socket complete without waiting, and a completed ValueTask allocates
            // nothing. A registered fd whose direction is known not to be ready skips the attempt (it would be EAGAIN).
            if (!registered || (reading ? state.Readable : state.Writable))
            {
                int r = Attempt(kind, fd, buffer.Span, constBuffer.Span);
                if (r >= 0)
                {
                    if (registered) NoteTransfer(state, kind, r, reading ? buffer.Length : constBuffer.Length);
                    return IoStart.Done(r);
                }
                if (r != -Errno.EAGAIN) return IoStart.Failed(ThrowHelper.IoError(IoNames.Of(kind), fd, -r));
                if (registered) SetReady(state, reading, false);
            }
        }
        var op = Loop.ParkIo(state, kind, buffer, constBuffer, remote, token);
        if (registered)
        {
            // The registration is permanent: nothing to arm. A readiness wait checks the level once, since an edge that
            // was already consumed will not come again (poll(2) with a zero timeout; not a hot path).
            if (kind is AsyncKind.WaitReadable or AsyncKind.WaitWritable)
            {
                int revents = Sys.PollNow(fd, kind == AsyncKind.WaitReadable ? (short)(Libc.POLLIN | Libc.POLLRDHUP) : Libc.POLLOUT);
                if (revents > 0)
                {
                    // The level is there: so is the direction's readiness (this also repairs a bit that is wrongly clear).
                    SetReady(state, reading, true);
                    op.Complete(0);
                }
                else if (revents < 0) op.Fail(new LinuxEventException(-revents, $"poll(fd={fd})"));
            }
        }
        else
        {
            if (Arm(state) is { } error) op.Fail(error);
        }
        op.Armed();         // no-op if arming failed and settled the use
        return IoStart.Pending(op);
    }

    private static void SetReady(ReactorFd state, bool reading, bool ready)
    {
        if (reading) state.Readable = ready; else state.Writable = ready;
    }

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
    private static void NoteTransfer(ReactorFd state, AsyncKind kind, int transferred, int requested)
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

    /// <summary>Registers or re-arms the one-shot registration for the waiters present. Returns null or the error.</summary>
    private Exception? Arm(ReactorFd state)
    {
        int fd = state.Fd;
        var w = state.Watcher;
        uint events = Libc.EPOLLONESHOT | (state.Reader is not null ? Libc.EPOLLIN | Libc.EPOLLRDHUP : 0) | (state.Writer is not null ? Libc.EPOLLOUT : 0);
        if (w is null || !w.Active || !ReferenceEquals(_watchers[fd], w))
        {
            try
            {
                w = Watch(fd, WatchOptions.OneShot, s_asyncReadable, s_asyncWritable, onError: null, extraEvents: 0, "Loop async I/O");
            }
            catch (Exception ex) when (ex is LinuxEventException or ArgumentException) { return ex; }
            w.Data = state;
            state.Watcher = w;
        }
        w.ReadEnabled = state.Reader is not null;
        w.WriteEnabled = state.Writer is not null;
        int err = Rearm(w, events);
        return err == 0 ? null : new LinuxEventException(err, $"epoll_ctl(MOD, fd={fd})");
    }

    private void OnAsyncReady(ReactorFd state, bool readable)
    {
        var w = state.Watcher!;
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
            if (state.Reader is { } r) TryComplete(state, r);
            if (state.Writer is { Kind: not AsyncKind.WaitWritable } wr) TryComplete(state, wr);
        }
        else if (state.Writer is { } wr2) TryComplete(state, wr2);
        if (state.Registration is null && (state.Reader is not null || state.Writer is not null) && w.Active)
        {
            if (Arm(state) is { } error) FailAll(state, error);
        }
    }

    private void TryComplete(ReactorFd state, AsyncOp op)
    {
        int fd = state.Fd;
        int r;
        switch (op.Kind)
        {
            case AsyncKind.WaitReadable:
            case AsyncKind.WaitWritable:
                r = 0;
                break;
            case AsyncKind.SendMessage:
            case AsyncKind.ReceiveMessage:
                TryCompleteMessage(state, op);
                return;
            case AsyncKind.Connect:
                // A registered socket may carry an edge from before the connect started (an unconnected TCP socket
                // polls as EPOLLOUT|EPOLLHUP): only a writable or failed socket has finished connecting.
                int level = 0;
                if (state.Registration is not null && ((level = Sys.PollNow(fd, Libc.POLLOUT | Libc.POLLRDHUP)) & (Libc.POLLOUT | Libc.POLLERR)) == 0) return;
                int soError = Sys.GetSocketError(fd);
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
                    if (state.Registration is not null) SetReady(state, op.Reading, false);
                    return;
                }
                if (state.Registration is not null) NoteTransfer(state, op.Kind, r, op.Reading ? op.Buffer.Length : op.ConstBuffer.Length);
                break;
        }
        if (r >= 0) op.Complete(r);
        else op.Fail(op.Kind == AsyncKind.Connect ? new LinuxEventSocketException(-r, $"connect(fd={fd}, {op.Remote})") : ThrowHelper.IoError(IoNames.Of(op.Kind), fd, -r));
    }

    private static void FailAll(IoFd state, Exception error)
    {
        state.Reader?.Fail(error);
        state.Writer?.Fail(error);
    }

    private int Attempt(AsyncKind kind, int fd, Span<byte> buffer, ReadOnlySpan<byte> constBuffer) => kind switch
    {
        AsyncKind.Read => Sys.Read(fd, buffer),
        AsyncKind.Write => Sys.Write(fd, constBuffer),
        AsyncKind.Receive => Sys.Receive(fd, buffer),
        AsyncKind.Send => Sys.Send(fd, constBuffer),
        AsyncKind.Accept => Sys.Accept(fd),
        _ => 0,
    };

    public override void Cancel(AsyncOp op)
    {
        if (op.Kind == AsyncKind.File)
        {
            CancelFile(op);
            return;
        }
        // The one-shot registration may stay armed; a later report finds no waiter and is ignored.
        op.Cancelled();
    }

    // ------------------------------------------------------------------ LoopFd (persistent registration)

    public override void Register(IoFd fdState, LoopFd registration)
    {
        var state = (ReactorFd)fdState;
        int fd = state.Fd;
        if (_watchers[fd] is { Active: true } other && !ReferenceEquals(other, state.Watcher))
            throw new InvalidOperationException($"Loop.Register: fd {fd} has a Watcher; cancel it first.");
        // Replaces the fd-number path's one-shot watcher if there was one (MOD, or ADD if the number was reused).
        // Throws LinuxEventException with nothing changed if epoll refuses the fd.
        // EPOLLRDHUP and EPOLLPRI: the short-read rule must see a FIN and urgent data (NoteTransfer).
        Watcher w;
        try
        {
            w = Watch(fd, WatchOptions.Read | WatchOptions.Write | WatchOptions.EdgeTriggered, s_asyncReadable, s_asyncWritable,
                onError: null, extraEvents: Libc.EPOLLRDHUP | Libc.EPOLLPRI, "Loop.Register");
        }
        catch (LinuxEventException ex) when (ex.Errno == Errno.EPERM)
        {
            // A regular file or a directory: epoll has no use for it (ep_insert refuses a file without a poll method),
            // and it needs none: reads and writes never wait for readiness, and file operations go to the worker pool.
            RegisterWithoutReadiness(state);
            return;
        }
        w.Data = state;
        state.Watcher = w;
        state.Readable = state.Writable = true;          // unknown: the first attempt finds out
        state.Streaming = state.ReadShutdown = false;
        (state.ShortWriteRule, state.ShortReadRule) = Sys.StreamSocketKind(fd);
    }

    public override void Unregister(IoFd fdState, LoopFd registration)
    {
        var state = (ReactorFd)fdState;
        state.Readable = state.Writable = false;
        if (state.Watcher is { } w) { CancelWatcher(w); state.Watcher = null; }
        FailAll(state, ThrowHelper.RegistrationDisposedDuringOperation(state.Fd));
        UnregisterFiles(state.Fd);
    }

    private void RegisterWithoutReadiness(ReactorFd state)
    {
        // A one-shot watcher left by an earlier file with this number (a socket, since closed) is dropped.
        if (state.Watcher is { } old) { CancelWatcher(old); state.Watcher = null; }
        state.Readable = state.Writable = true;          // always: a regular file never answers EAGAIN
        state.Streaming = state.ReadShutdown = false;
        state.ShortReadRule = state.ShortWriteRule = false;
    }

    /// <summary>Disposal: every pending readiness wait completes with <see cref="ObjectDisposedException"/>.</summary>
    private void FailPendingAsync()
    {
        Loop.IoFds.ForEach(state =>
        {
            if (state.Reader is not null || state.Writer is not null)
                FailAll(state, ThrowHelper.LoopDisposedDuringOperation(Loop));
        });
    }
}
