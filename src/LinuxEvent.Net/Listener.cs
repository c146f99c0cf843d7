using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>
/// Accepts connections on a TCP (IPv4/IPv6) or Unix-domain listening socket, on a loop of either model. Loop-thread only.
/// </summary>
/// <remarks>
/// <para><b>Models.</b> Reactor: a level-triggered read watcher; each readiness report accepts until EAGAIN or
/// <see cref="ListenerOptions.MaxAcceptsPerIteration"/>. Proactor: one multishot accept (a single-shot accept
/// resubmitted on kernels without it); connections beyond the per-iteration cap wait in the listener and are handed
/// out in later iterations.</para>
/// <para><b>Errors.</b> EINTR, ECONNABORTED and the other per-connection errors accept(2) documents (EPROTO,
/// ENETDOWN, EHOSTUNREACH...) are retried silently. EMFILE, ENFILE, ENOBUFS and ENOMEM go to <see cref="OnError"/> and
/// accepting stops for <see cref="ListenerOptions.ResourceErrorBackoff"/> (a timer, never a spin), then resumes.
/// EBADF/EINVAL/ENOTSOCK (the socket is gone) stop the listener for good (<see cref="IsFailed"/>); with no
/// <see cref="OnError"/> those go to the loop's <see cref="Loop.UnhandledException"/>.</para>
/// <para>A throwing accept handler goes to <see cref="Loop.UnhandledException"/>; the listener keeps accepting.</para>
/// <para><b>Ownership.</b> A listener that created its socket (<see cref="Bind(Loop, EndPoint, AcceptHandler?, ListenerOptions?)"/>)
/// closes it on dispose and unlinks the Unix socket file it created; a wrapped socket is closed only when owned.
/// Connections accepted but not yet handed out when the listener is disposed are closed.</para>
/// <para><b>Loop disposal</b> disposes the listener (on both models), releasing the same things: a pending
/// <see cref="AcceptAsync"/> fails with <see cref="ObjectDisposedException"/> naming the loop, and a later
/// <see cref="Dispose"/> does nothing.</para>
/// </remarks>
public sealed partial class Listener : LoopComponent, IDisposable, IAcceptChannelHandler
{
    private readonly Loop _loop;
    private readonly AcceptHandler? _onAccept;
    private readonly bool _ownsSocket, _isTcp, _noDelay, _resolvePeer;
    private readonly string? _unlinkPath;      // the Unix socket file this listener created (never an abstract name)
    private readonly int _cap, _queueLimit;
    private readonly TimeSpan _backoff;
    private readonly Queue<SocketConnection> _ready = new();

    /// <summary>What the listener has been asked and has seen, as one set of bits.</summary>
    [Flags]
    private enum State : byte
    {
        None = 0,
        Paused = 1 << 0,   // Pause until Resume
        BackingOff = 1 << 1,   // accepting stopped after a resource error, until a timer
        Disposed = 1 << 2,   // disposed (also by the loop)
        Failed = 1 << 3,   // the socket is gone: accepting stopped for good
        PumpScheduled = 1 << 4,   // a deferred hand-out of queued connections is pending
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;
    private int _handedThisIteration;
    private long _handIteration = -1;           // the loop iteration _handedThisIteration counts for
    private TimerHandle? _backoffTimer;
    private LoopAwaitable<SocketConnection>? _acceptWaiter;

    // The model's half lives behind the seam: a read watcher (reactor) or a multishot accept (proactor).
    private readonly AcceptChannel _channel;

    private static readonly Action<object?> s_pump = static s => ((Listener)s!).Pump();

    private Listener(Loop loop, int fd, bool ownsSocket, string? unlinkPath, AcceptHandler? onAccept, ListenerOptions options) : base(loop)
    {
        _loop = loop;
        Fd = fd;
        _ownsSocket = ownsSocket;
        _unlinkPath = unlinkPath;
        _onAccept = onAccept;
        _cap = options.MaxAcceptsPerIteration;
        _queueLimit = options.AcceptQueueLimit;
        _backoff = options.ResourceErrorBackoff;
        _noDelay = options.NoDelay;
        _resolvePeer = options.ResolvePeerEndPoint;
        LocalEndPoint = Posix.GetLocalEndPoint(fd);
        _isTcp = LocalEndPoint is IPEndPoint;
        _channel = loop.CreateAcceptChannel(fd, this, _cap, options.ExclusiveWakeup);
    }

    /// <summary>
    /// Creates a listening socket on <paramref name="endpoint"/> (<see cref="IPEndPoint"/>: TCP over IPv4 or IPv6, port
    /// 0 picks a free port; <see cref="UnixDomainSocketEndPoint"/>: a path, or "@name" in the abstract namespace) and
    /// starts accepting. With <paramref name="onAccept"/> null the listener is in async mode: use <see cref="AcceptAsync"/>.
    /// </summary>
    /// <exception cref="LinuxEventSocketException">socket/bind/listen failed (e.g. EADDRINUSE: <see cref="System.Net.Sockets.SocketError.AddressAlreadyInUse"/>).</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public static Listener Bind(Loop loop, EndPoint endpoint, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endpoint);
        var o = options ?? ListenerOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, "Listener.Bind");
        int fd;
        string? unlinkPath = null;
        switch (endpoint)
        {
            case IPEndPoint ip:
                fd = Posix.CreateTcpListener(ip, o.Backlog, o.ReuseAddress, o.ReusePort, o.IPv6Only);
                break;
            case UnixDomainSocketEndPoint ux:
                fd = Posix.CreateUnixListener(ux, o.Backlog);
                string path = ux.ToString();
                if (path.Length > 0 && path[0] != '@') unlinkPath = path;     // abstract names have no file
                break;
            default:
                throw new ArgumentException($"Listener.Bind: unsupported endpoint '{endpoint}' ({endpoint.AddressFamily}); use IPEndPoint or UnixDomainSocketEndPoint.", nameof(endpoint));
        }
        try
        {
            var listener = new Listener(loop, fd, ownsSocket: true, unlinkPath, onAccept, o);
            listener.UpdateAccepting();
            // Only once it is set up: the catch below closes the socket of a listener that failed to start, and the
            // loop's disposal must not close it a second time.
            listener.Attach();
            return listener;
        }
        catch
        {
            Posix.CloseQuietly(fd);
            if (unlinkPath is not null) Unlink(unlinkPath);
            throw;
        }
    }

    /// <summary>
    /// Accepts on an existing listening socket (e.g. inherited through systemd socket activation). It is made
    /// non-blocking. It is closed on dispose only if <paramref name="ownsSocket"/>; its file (for a Unix socket) is
    /// never unlinked, since this listener did not create it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed (the socket stays the caller's).</exception>
    public static Listener FromSocket(Loop loop, int listeningSocket, bool ownsSocket, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (listeningSocket < 0) throw new ArgumentOutOfRangeException(nameof(listeningSocket), listeningSocket, "Listener.FromSocket: the fd must not be negative.");
        var o = options ?? ListenerOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, "Listener.FromSocket");
        Posix.SetNonBlocking(listeningSocket, true);
        var listener = new Listener(loop, listeningSocket, ownsSocket, null, onAccept, o);
        listener.UpdateAccepting();
        listener.Attach();
        return listener;
    }

    internal void Attach() => AttachToLoop();

    /// <summary>The listening socket.</summary>
    public int Fd { get; }

    /// <summary>The bound address (with the real port when bound to port 0).</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>Resource and fatal accept errors (see the class remarks). Throwing from it goes to the loop's handler.</summary>
    public Action<Listener, LinuxEventSocketException>? OnError { get; set; }

    /// <summary>Free slot for the owner.</summary>
    public object? Data { get; set; }

    /// <summary>Connections accepted so far.</summary>
    public long AcceptedCount { get; private set; }

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    public bool IsPaused => Is(State.Paused);

    /// <summary>True while accepting is suspended after a resource error.</summary>
    public bool IsBackingOff => Is(State.BackingOff);

    /// <summary>True once a fatal error stopped the listener.</summary>
    public bool IsFailed => Is(State.Failed);

    /// <summary>Stops accepting (pending connections wait in the kernel's backlog). Idempotent.</summary>
    public void Pause()
    {
        Loop.CheckLoopThread("Listener.Pause");
        if (Is(State.Paused) || Is(State.Disposed)) return;
        Set(State.Paused, true);
        UpdateAccepting();
    }

    /// <summary>Resumes accepting; connections accepted meanwhile by the kernel are handed out first. Idempotent.</summary>
    public void Resume()
    {
        Loop.CheckLoopThread("Listener.Resume");
        if (!Is(State.Paused) || Is(State.Disposed)) return;
        Set(State.Paused, false);
        if (_ready.Count > 0) SchedulePump();
        UpdateAccepting();
    }

    /// <summary>
    /// Async mode: the next connection. Completes at once if one is queued. Cancelling the token completes it with
    /// <see cref="OperationCanceledException"/>; no connection is lost (it stays queued). One call may be pending.
    /// </summary>
    /// <exception cref="InvalidOperationException">The listener has an accept handler, or another call is pending.</exception>
    /// <exception cref="ObjectDisposedException">The listener is disposed (also for a pending call when it is), or the
    /// loop was disposed while the call was pending (the exception then names the loop).</exception>
    public ValueTask<SocketConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("Listener.AcceptAsync");
        if (_onAccept is not null) throw new InvalidOperationException("Listener.AcceptAsync: this listener hands connections to its accept handler.");
        ObjectDisposedException.ThrowIf(Is(State.Disposed), this);
        if (_acceptWaiter?.IsBusy == true) throw new InvalidOperationException("Listener.AcceptAsync: another accept is pending; await it first.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<SocketConnection>(cancellationToken);
        if (_ready.Count > 0)
        {
            var c = _ready.Dequeue();
            UpdateAccepting();
            return new ValueTask<SocketConnection>(c);
        }
        if (Is(State.Failed)) return ValueTask.FromException<SocketConnection>(new InvalidOperationException("Listener.AcceptAsync: the listener failed; see OnError."));
        _acceptWaiter ??= new LoopAwaitable<SocketConnection>(_loop, static a => a.SetCanceled());
        _acceptWaiter.Start(cancellationToken);
        UpdateAccepting();
        return _acceptWaiter.Task;
    }

    /// <summary>Stops accepting, closes connections accepted but not handed out, closes the socket if owned and unlinks
    /// the Unix socket file it created. Idempotent.</summary>
    public void Dispose()
    {
        if (Is(State.Disposed) || IsLoopTornDownElsewhere) return;
        Loop.CheckLoopThread("Listener.Dispose");
        DisposeCore(loopDisposed: false);
    }

    /// <summary>The loop was disposed: its watcher or accept operation is gone, so a pending accept would never
    /// complete; release everything as <see cref="Dispose"/> does (the socket, queued connections, the file).</summary>
    protected override void OnLoopDisposing() => DisposeCore(loopDisposed: true);

    private void DisposeCore(bool loopDisposed)
    {
        if (Is(State.Disposed)) return;
        Set(State.Disposed, true);
        DetachFromLoop();
        _backoffTimer?.Cancel();
        _backoffTimer = null;
        // Stops accepting; an accept queued in this iteration is handed to the kernel before the socket is closed
        // (below when owned, by the owner otherwise).
        _channel.Close();
        while (_ready.Count > 0) CloseQuietly(_ready.Dequeue().Fd);
        if (_acceptWaiter?.IsPending == true)
            _acceptWaiter.SetException(loopDisposed ? LoopDisposal.PendingCallFailed(_loop, "Listener.AcceptAsync") : new ObjectDisposedException(nameof(Listener)));
        if (_ownsSocket) CloseQuietly(Fd);
        ReleaseOwner();
        if (_unlinkPath is not null) Unlink(_unlinkPath);
    }

    /// <inheritdoc />
    public override string ToString() => $"Listener(fd={Fd}, {LocalEndPoint}, {_loop.BackendName})";

    /// <summary>Removes the socket file this listener bound (a stale file would make the next bind fail with EADDRINUSE).</summary>
    private static void Unlink(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    // ------------------------------------------------------------------ arming

    private bool WantsAccept => !Is(State.Disposed) && !Is(State.Failed) && !Is(State.Paused) && !Is(State.BackingOff)
        && (_onAccept is not null ? _ready.Count < _cap * 4 : _ready.Count < _queueLimit || _acceptWaiter?.IsPending == true);

    private void UpdateAccepting() => _channel.SetAccepting(WantsAccept);

    void IAcceptChannelHandler.OnAccepted(int fd)
    {
        if (Is(State.Disposed)) { CloseQuietly(fd); return; }
        Deliver(fd);
    }

    bool IAcceptChannelHandler.OnAcceptFailed(int errno) => HandleAcceptError(errno);

    // ------------------------------------------------------------------ shared

    /// <summary>Classifies an accept errno. Returns true to keep accepting now, false when accepting stopped.</summary>
    private bool HandleAcceptError(int errno)
    {
        switch (errno)
        {
            case Errno.EINTR:
            case Errno.ECONNABORTED:
            case 71:  // EPROTO
            case Errno.ENETDOWN:
            case Errno.ENOPROTOOPT:
            case 112: // EHOSTDOWN
            case 64:  // ENONET
            case Errno.EHOSTUNREACH:
            case Errno.EOPNOTSUPP:
            case Errno.ENETUNREACH:
            case Errno.EPERM:         // a firewall rule refused this one connection
                return true;          // per-connection failures: accept(2) says to retry
            case Errno.EBADF:
            case Errno.EINVAL:
            case Errno.ENOTSOCK:
            case Errno.EFAULT:
                Set(State.Failed, true);
                UpdateAccepting();
                Report(errno, fatal: true);
                return false;
            default:
                // EMFILE/ENFILE/ENOBUFS/ENOMEM and anything unexpected: the pending connection stays queued and keeps
                // the socket readable, so stop and retry after a timer instead of spinning.
                Set(State.BackingOff, true);
                UpdateAccepting();
                _backoffTimer = _loop.After(_backoff, this, static (_, l) => l.EndBackoff());
                _loop.Metrics.RecordAcceptBackoff();
                Report(errno, fatal: false);
                return false;
        }
    }

    private void EndBackoff()
    {
        _backoffTimer = null;
        Set(State.BackingOff, false);
        if (!Is(State.Disposed)) UpdateAccepting();
    }

    private void Report(int errno, bool fatal)
    {
        var ex = new LinuxEventSocketException(errno, $"accept4(fd={Fd}, {LocalEndPoint})",
            fatal ? "The listener stopped." : $"Accepting resumes in {_backoff.TotalMilliseconds:0.###} ms.");
        var handler = OnError;
        if (handler is null)
        {
            if (fatal) _loop.ReportException(ex);
            return;
        }
        try { handler(this, ex); }
        catch (Exception cbEx) { _loop.ReportException(cbEx); }
    }

    private void Deliver(int fd)
    {
        AcceptedCount++;
        _loop.Metrics.RecordAccepted();
        if (_isTcp && _noDelay)
        {
            try { Posix.SetTcpNoDelay(fd); } catch (Exception e) when (e is ILinuxEventError) { }   // a reset peer: the stream will see it
        }
        var connection = new SocketConnection(fd, _resolvePeer ? SocketHelpers.PeerOf(fd) : null);
        if (_onAccept is null)
        {
            if (_acceptWaiter?.IsPending == true && _ready.Count == 0) _acceptWaiter.SetResult(connection);
            else _ready.Enqueue(connection);
            if (!WantsAccept) UpdateAccepting();
            return;
        }
        if (Is(State.Paused) || _ready.Count > 0 || !UnderCap())
        {
            // Over the per-iteration cap (or paused while a multishot raced): hand it out in a later iteration.
            _ready.Enqueue(connection);
            SchedulePump();
            if (!WantsAccept) UpdateAccepting();
            return;
        }
        Hand(connection);
    }

    /// <summary>
    /// True while this iteration's budget (<see cref="ListenerOptions.MaxAcceptsPerIteration"/>) is not spent. The count is
    /// keyed by the loop's iteration number, so the deferred pump running later in the same iteration cannot reset it
    /// (it used to, and a multishot batch plus the pump handed out up to twice the cap in one iteration).
    /// </summary>
    private bool UnderCap()
    {
        long iteration = _loop.Metrics.Iterations;
        if (iteration != _handIteration)
        {
            _handIteration = iteration;
            _handedThisIteration = 0;
        }
        return _handedThisIteration < _cap;
    }

    private void Hand(SocketConnection connection)
    {
        _handedThisIteration++;
        try { _onAccept!(this, connection); }
        catch (Exception ex) { _loop.ReportException(ex); }
    }

    private void SchedulePump()
    {
        if (Is(State.PumpScheduled)) return;
        Set(State.PumpScheduled, true);
        _loop.Defer(s_pump, this);
    }

    /// <summary>Deferred phase: hands out queued connections within this iteration's budget; the rest wait their turn.</summary>
    private void Pump()
    {
        Set(State.PumpScheduled, false);
        if (Is(State.Disposed) || _onAccept is null) return;
        while (_ready.Count > 0 && !Is(State.Paused) && UnderCap() && !Is(State.Disposed))
            Hand(_ready.Dequeue());
        // Work deferred from the deferred phase runs next iteration, after I/O: the rest waits its turn.
        if (_ready.Count > 0 && !Is(State.Paused)) SchedulePump();
        if (!Is(State.Disposed)) UpdateAccepting();
    }

    private static void CloseQuietly(int fd)
    {
        try { Posix.Close(fd); } catch (Exception e) when (e is ILinuxEventError) { }
    }
}
