using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>A connection attempt started by <see cref="Connector"/>. Loop-thread only.</summary>
public sealed class ConnectAttempt : LoopComponent
{
    private readonly Loop _loop;
    private readonly Action<ConnectResult> _callback;
    private readonly ConnectOptions _options;
    private readonly string _target;
    private IReadOnlyList<EndPoint> _candidates = [];
    private int _index = -1;
    private int _fd = -1;
    // The connect in flight goes through a registration of the socket (the model's half lives behind the seam), for
    // the connect only: disposing it cancels the connect, and nothing stays registered once the socket is handed out.
    // The serial tells a continuation of an abandoned candidate from the current one.
    private LoopFd? _registration;
    private int _serial;
    private TimerHandle? _timer;
    private StringBuilder? _failures;
    private LinuxEventSocketException? _lastError;
    private CancellationTokenSource? _resolveCts;

    /// <summary>The task of <see cref="Connector.ConnectAsync(Loop, EndPoint, ConnectOptions?, CancellationToken)"/>, if
    /// this attempt is behind one: failed by the loop's disposal, which never runs the callback.</summary>
    internal TaskCompletionSource<SocketConnection>? AsyncCompletion;


    internal ConnectAttempt(Loop loop, Action<ConnectResult> callback, ConnectOptions options, string target) : base(loop)
    {
        _loop = loop;
        _callback = callback;
        _options = options;
        _target = target;
        if (options.Timeout != Timeout.InfiniteTimeSpan && options.Timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.Timeout, "ConnectOptions.Timeout must be positive (or infinite).");
        LoopDisposal.ThrowIfDisposed(loop, "Connector.Connect");
        if (options.Timeout != Timeout.InfiniteTimeSpan)
            _timer = loop.After(options.Timeout, this, static (_, a) => a.OnTimeout());
        AttachToLoop();
    }

    /// <summary>
    /// The loop is being disposed: its watcher or operation is going away, so the attempt could never finish. Cancel it
    /// as <see cref="Cancel"/> does (the callback does not run, as on the proactor when disposal cancels the connect)
    /// and fail an awaiting <see cref="Connector.ConnectAsync(Loop, EndPoint, ConnectOptions?, CancellationToken)"/>.
    /// </summary>
    protected override void OnLoopDisposing()
    {
        if (!IsCompleted) AbandonForLoopDisposal();
    }

    private void AbandonForLoopDisposal()
    {
        IsCompleted = true;
        Cleanup(closeFd: true);
        AsyncCompletion?.TrySetException(LoopDisposal.PendingCallFailed(_loop, "Connector.ConnectAsync"));
    }

    /// <summary>True once the callback has run or the attempt was cancelled.</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>The endpoint being tried now (null while resolving or when completed).</summary>
    public EndPoint? CurrentEndPoint => !IsCompleted && _index >= 0 && _index < _candidates.Count ? _candidates[_index] : null;

    /// <summary>
    /// Cancels the attempt silently: the callback never runs, the socket being connected is closed, and the timer,
    /// watcher or kernel operation are released. Returns false if the attempt already completed (the callback ran or
    /// is about to run with its result) or was cancelled before (also by the loop's disposal).
    /// </summary>
    public bool Cancel()
    {
        Loop.CheckLoopThread("ConnectAttempt.Cancel");
        if (IsCompleted) return false;
        IsCompleted = true;
        Cleanup(closeFd: true);
        return true;
    }

    // ------------------------------------------------------------------ resolution

    internal void Resolve(string host, int port)
    {
        _resolveCts = new CancellationTokenSource();
        var token = _resolveCts.Token;
        Dns.GetHostAddressesAsync(host, token).ContinueWith(static (t, s) =>
        {
            var (attempt, port) = ((ConnectAttempt, int))s!;
            try { attempt._loop.Post(static (_, st) => { var (a, tt, p) = ((ConnectAttempt, Task<IPAddress[]>, int))st!; a.OnResolved(tt, p); }, (attempt, t, port)); }
            catch (ObjectDisposedException) { }        // the loop is gone: nobody to tell
        }, (this, port), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnResolved(Task<IPAddress[]> task, int port)
    {
        _resolveCts?.Dispose();
        _resolveCts = null;
        if (IsCompleted) return;
        if (task.IsCompletedSuccessfully && task.Result.Length > 0)
        {
            Begin(task.Result.Select(a => (EndPoint)new IPEndPoint(a, port)).ToArray());
            return;
        }
        string why = task.Exception?.InnerException?.Message ?? "no addresses";
        Finish(new LinuxEventSocketException(Errno.EHOSTUNREACH, $"connect({_target})", $"Name resolution failed: {why}."));
    }

    // ------------------------------------------------------------------ candidates

    internal void Begin(IReadOnlyList<EndPoint> candidates)
    {
        _candidates = candidates;
        _index = -1;
        // Never complete inside the Connect call itself: start from the loop's deferred phase.
        _loop.Defer(static s => ((ConnectAttempt)s!).Next(), this);
    }

    private void Next()
    {
        while (!IsCompleted)
        {
            _index++;
            if (_index >= _candidates.Count)
            {
                var last = _lastError!;
                Finish(new LinuxEventSocketException(last.Errno, $"connect({_target})",
                    _candidates.Count > 1 ? $"Every candidate failed: {_failures}." : null));
                return;
            }
            if (StartCandidate(_candidates[_index])) return;      // waiting for the kernel
        }
    }

    /// <summary>Starts connecting to <paramref name="ep"/>; false if it failed at once (the error is recorded).</summary>
    private bool StartCandidate(EndPoint ep)
    {
        int fd = _options.SocketFactory is { } factory ? CreateWith(factory, ep, out int errno) : SocketHelpers.CreateStreamSocket(ep, out errno);
        if (fd < 0) { RecordFailure(ep, errno); return false; }
        _fd = fd;
        ValueTask connect;
        try
        {
            _registration = _loop.Register(fd, ownsFd: false);
            connect = _registration.ConnectAsync(ep);
        }
        catch (Exception ex) when (ex is ILinuxEventError le)
        {
            EndRegistration();
            CloseFd();
            RecordFailure(ep, le.Errno);
            return false;
        }
        int serial = ++_serial;
        if (!connect.IsCompleted)
        {
            connect.GetAwaiter().UnsafeOnCompleted(() => OnConnected(connect, serial));
            return true;
        }
        // Finished at once (a Unix socket, or an immediate refusal): we run from the deferred phase, so the callback
        // may run now.
        var error = Outcome(connect);
        EndRegistration();
        if (error is null) { Succeed(); return true; }
        // A Unix socket whose backlog is full says EAGAIN rather than waiting: that candidate is busy.
        CloseFd();
        RecordFailure(ep, ErrnoOf(error));
        return false;
    }

    private static int CreateWith(Func<EndPoint, int> factory, EndPoint ep, out int errno)
    {
        try
        {
            errno = 0;
            return factory(ep);
        }
        catch (Exception ex) when (ex is ILinuxEventError le)     // socket(2) fails with a LinuxEventSocketException
        {
            errno = le.Errno;
            return -1;
        }
    }

    private static Exception? Outcome(ValueTask connect)
    {
        try
        {
            connect.GetAwaiter().GetResult();      // consumes the loop's pooled awaitable
            return null;
        }
        catch (Exception ex) { return ex; }
    }

    private static int ErrnoOf(Exception error) => error is ILinuxEventError le ? le.Errno : Errno.ECANCELED;

    private void OnConnected(ValueTask connect, int serial)
    {
        var error = Outcome(connect);
        if (serial != _serial) return;
        if (IsCompleted) return;                    // cancelled or timed out: the fd was closed then
        if (_loop.IsDisposed || error is ObjectDisposedException)
        {
            // Settled by the loop's disposal (or a connect that won the race with it): the attempt is abandoned. No stream
            // can be built on a disposed loop, and a failure could not try the next candidate.
            AbandonForLoopDisposal();
            return;
        }
        EndRegistration();
        if (error is null) { Succeed(); return; }
        CloseFd();
        RecordFailure(_candidates[_index], ErrnoOf(error));
        Next();
    }

    private void RecordFailure(EndPoint ep, int errno)
    {
        _lastError = new LinuxEventSocketException(errno, $"connect({SocketHelpers.Describe(ep)})");
        _failures ??= new StringBuilder();
        if (_failures.Length > 0) _failures.Append("; ");
        _failures.Append(SocketHelpers.Describe(ep)).Append(": ").Append(Errno.Name(errno));
    }

    private void OnTimeout()
    {
        _timer = null;
        if (IsCompleted) return;
        string tried = _failures is { Length: > 0 } ? $" Failed before: {_failures}." : "";
        string now = CurrentEndPoint is { } ep ? $" Still connecting to {SocketHelpers.Describe(ep)}." : " Name resolution had not finished.";
        Finish(new LinuxEventSocketException(Errno.ETIMEDOUT, $"connect({_target})", $"No connection within {_options.Timeout.TotalMilliseconds:0.###} ms.{now}{tried}"));
    }

    private void Succeed()
    {
        int fd = _fd;
        _fd = -1;                                   // handed over: Cleanup must not close it
        var ep = _candidates[_index];
        if (_options.NoDelay && ep is IPEndPoint)
        {
            try { Posix.SetTcpNoDelay(fd); } catch (Exception e) when (e is ILinuxEventError) { }
        }
        IsCompleted = true;
        Cleanup(closeFd: false);
        var connection = new SocketConnection(fd, ep);
        // A reactor connect to a Unix socket can succeed inside Next(), which may run inside Connect's caller only
        // via the deferred start; either way we are in dispatch here, so the callback may run now.
        Invoke(new ConnectResult(connection));
    }

    private void Finish(LinuxEventSocketException error)
    {
        IsCompleted = true;
        Cleanup(closeFd: true);
        Invoke(new ConnectResult(error));
    }

    private void Invoke(ConnectResult result)
    {
        try { _callback(result); }
        catch (Exception ex) { _loop.ReportException(ex); }
    }

    private void Cleanup(bool closeFd)
    {
        DetachFromLoop();          // every way of completing passes here
        _timer?.Cancel();
        _timer = null;
        _resolveCts?.Cancel();
        // Cancels a connect in flight (its settlement is ignored: IsCompleted) and, on the proactor, hands a connect
        // queued in this iteration to the kernel before the socket is closed below.
        EndRegistration();
        if (closeFd) CloseFd();
    }

    private void EndRegistration()
    {
        var registration = _registration;
        _registration = null;
        registration?.Dispose();
    }

    private void CloseFd()
    {
        if (_fd < 0) return;
        try { Posix.Close(_fd); } catch (Exception e) when (e is ILinuxEventError) { }
        _fd = -1;
    }
}
