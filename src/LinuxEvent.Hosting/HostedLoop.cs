using System.Net;
using System.Runtime.InteropServices;
using LinuxEvent.Hosting.Native;
using LinuxEvent.Net;

namespace LinuxEvent.Hosting;

/// <summary>
/// One hosted loop, as its setup code and its <see cref="ILoopService"/>s see it: the loop, its number, the host's
/// services, the sockets systemd passed, and what the host must drain when it stops (listeners, connections, tasks).
/// </summary>
/// <remarks>
/// <para><b>Threading.</b> Like the loop, loop-thread only (setup code and loop callbacks run there), except the
/// read-only properties.</para>
/// <para><b>Stopping.</b> When the host stops, on each loop's thread: <see cref="Stopping"/> is cancelled, the
/// tracked listeners are disposed (no new connections), and every <see cref="ILoopService.StopAsync"/> is called. The
/// loop then runs until every tracked connection has closed and every tracked task (including those StopAsync calls)
/// has completed, or until the drain deadline, when the services' token is cancelled and tracked connections still
/// open are closed. Then the loop stops, its services are disposed and the loop is disposed on its own thread, which
/// settles everything else (untracked streams close with <see cref="CloseReason.LoopDisposed"/>).</para>
/// </remarks>
public sealed class HostedLoop
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _deadline = new();
    private readonly List<Listener> _listeners = new();
    private readonly HashSet<LoopStream> _connections = new();
    private readonly HashSet<Task> _tasks = new();
    private readonly List<ILoopService> _services = new();
    private readonly List<PosixSignalRegistration> _signals = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _draining, _tornDown;

    internal HostedLoop(Loop loop, int index, int loopCount, IServiceProvider services, IReadOnlyList<ActivatedSocket> activated)
    {
        Loop = loop;
        Index = index;
        LoopCount = loopCount;
        Services = services;
        ActivatedSockets = activated;
    }

    /// <summary>The loop.</summary>
    public Loop Loop { get; }

    /// <summary>This loop's number, 0..<see cref="LoopCount"/>-1 (kept by a restarted loop).</summary>
    public int Index { get; }

    /// <summary>How many loops the host runs.</summary>
    public int LoopCount { get; }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Sockets passed by systemd socket activation (empty without it). Every loop sees the same list; accept
    /// on them with <see cref="ListenActivated"/>.</summary>
    public IReadOnlyList<ActivatedSocket> ActivatedSockets { get; }

    /// <summary>Cancelled, on the loop's thread, when the host begins to stop (the drain starts).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Tracked connections still open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// Binds a listener on <paramref name="endpoint"/> and tracks it (it is disposed when the drain starts). With
    /// several loops, a TCP endpoint is bound with <c>SO_REUSEPORT</c> on every loop, so the kernel spreads incoming
    /// connections across them.
    /// </summary>
    /// <exception cref="ArgumentException">A TCP port 0 with several loops: each loop would get a different port; bind
    /// a fixed port, or listen on one loop only.</exception>
    /// <exception cref="LinuxEventSocketException">socket/bind/listen failed (e.g. EADDRINUSE).</exception>
    public Listener Listen(EndPoint endpoint, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Loop.CheckLoopThread("HostedLoop.Listen");
        if (endpoint is IPEndPoint ip && LoopCount > 1)
        {
            if (ip.Port == 0)
                throw new ArgumentException($"HostedLoop.Listen: port 0 on {LoopCount} loops would bind a different port on each loop; use a fixed port or listen on one loop.", nameof(endpoint));
            if (options is null || !options.ReusePort) options = WithReusePort(options ?? ListenerOptions.Default);
        }
        var listener = Listener.Bind(Loop, endpoint, onAccept, options);
        _listeners.Add(listener);
        return listener;
    }

    private static readonly ListenerOptions s_sharedListener = new() { ExclusiveWakeup = true };

    /// <summary>
    /// Accepts on an inherited, activated socket from this loop: the listener works on a duplicate of the fd
    /// (close-on-exec), owns and closes that duplicate, and is tracked (disposed when the drain starts). Every loop
    /// may call it for the same socket: they then share one accept queue (see the package README for the trade-off
    /// against <c>SO_REUSEPORT</c>). Without <paramref name="options"/> the listener uses
    /// <see cref="ListenerOptions.ExclusiveWakeup"/>, so one connection wakes one loop (the duplicates share one open
    /// file, and so one wait queue, which is what EPOLLEXCLUSIVE acts on); options given are used as they are.
    /// </summary>
    /// <exception cref="ArgumentException">The socket is not a listening stream socket.</exception>
    /// <exception cref="LinuxEventException">The duplicate could not be made (e.g. EMFILE).</exception>
    public Listener ListenActivated(ActivatedSocket socket, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Loop.CheckLoopThread("HostedLoop.ListenActivated");
        if (!socket.IsListening)
            throw new ArgumentException($"HostedLoop.ListenActivated: {socket} is not a listening stream socket.", nameof(socket));
        int dup = Libc.Fcntl(socket.Fd, Libc.F_DUPFD_CLOEXEC, 3);
        if (dup < 0) throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={socket.Fd}, F_DUPFD_CLOEXEC)");
        Listener listener;
        try { listener = Listener.FromSocket(Loop, dup, ownsSocket: true, onAccept, options ?? s_sharedListener); }
        catch
        {
            Posix.CloseQuietly(dup);
            throw;
        }
        _listeners.Add(listener);
        return listener;
    }

    /// <summary>Tracks a listener created another way: it is disposed when the drain starts.</summary>
    public void TrackListener(Listener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        Loop.CheckLoopThread("HostedLoop.TrackListener");
        if (_draining) listener.Dispose();
        else _listeners.Add(listener);
    }

    /// <summary>
    /// Tracks a connection: the drain waits for it to close, and closes it (<see cref="LoopStream.Close"/>) at the
    /// deadline. It leaves the set by itself when it closes. Tracking a closed stream does nothing.
    /// </summary>
    public void TrackConnection(LoopStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Loop.CheckLoopThread("HostedLoop.TrackConnection");
        if (stream.IsClosed || _tornDown || !_connections.Add(stream)) return;
        // Completion's continuations run asynchronously (thread pool); Defer brings the removal back to the loop
        // thread, or runs it on the pool once the loop is gone (then _tornDown makes it a no-op).
        stream.Completion.ContinueWith(static (_, s) =>
        {
            var (self, st) = ((HostedLoop, LoopStream))s!;
            self.Loop.Defer(static s2 => { var (h, x) = ((HostedLoop, LoopStream))s2!; h.Untrack(x); }, (self, st));
        }, (this, stream), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Tracks a task (e.g. an async connection handler): the drain waits for it to complete. A task that faults is
    /// reported to the loop's <see cref="Loop.UnhandledException"/> (the host logs it). Tracking a completed task only
    /// reports its fault.
    /// </summary>
    public void TrackTask(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        Loop.CheckLoopThread("HostedLoop.TrackTask");
        if (task.IsCompleted)
        {
            ReportFault(task);
            return;
        }
        if (_tornDown || !_tasks.Add(task)) return;
        task.ContinueWith(static (t, s) =>
        {
            var self = (HostedLoop)s!;
            self.Loop.Defer(static s2 => { var (h, x) = ((HostedLoop, Task))s2!; h.Untrack(x); }, (self, t));
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Runs <paramref name="handler"/> on this loop's thread when the process receives <paramref name="signal"/>, through
    /// the runtime's <see cref="PosixSignalRegistration"/> only, so every other handler of that signal (the host's
    /// lifetime, other loops) still sees it. Use it on hosted loops instead of <see cref="Loop.Signal(PosixSignal, Action{Loop, SignalEvent})"/>, whose
    /// signalfd can take a signal before the runtime's handlers see it, e.g. SIGTERM before the host's lifetime, which
    /// would then never stop the host. The signal's default action is suppressed (as every .NET handler that sets
    /// <see cref="PosixSignalContext.Cancel"/> does). Released when the loop stops, or by disposing the result.
    /// </summary>
    /// <returns>The registration; dispose it to stop receiving the signal.</returns>
    public IDisposable RegisterSignal(PosixSignal signal, Action<HostedLoop, PosixSignal> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Loop.CheckLoopThread("HostedLoop.RegisterSignal");
        ObjectDisposedException.ThrowIf(_tornDown, this);
        var registration = PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            // The runtime calls this on its own thread: hand the signal to the loop (gone once the loop is disposed).
            try { Loop.Post(static (_, s) => { var (h, f, sig) = ((HostedLoop, Action<HostedLoop, PosixSignal>, PosixSignal))s!; f(h, sig); }, (this, handler, context.Signal)); }
            catch (ObjectDisposedException) { }
        });
        _signals.Add(registration);
        return registration;
    }

    /// <inheritdoc />
    public override string ToString() => $"HostedLoop({Index}/{LoopCount}, {Loop.Model} {Loop.BackendName}{(_draining ? ", draining" : "")})";

    // ------------------------------------------------------------------ host side (all on the loop thread)

    /// <summary>Completes once a started drain has nothing left to wait for.</summary>
    internal Task Drained => _drained.Task;

    internal void AddService(ILoopService service) => _services.Add(service);

    /// <summary>Starts the drain: cancel Stopping, stop accepting, ask each service to finish. Idempotent.</summary>
    internal void BeginDrain()
    {
        if (_draining || _tornDown) return;
        _draining = true;
        try { _stopping.Cancel(); }
        catch (AggregateException ex) { Loop.ReportException(ex); }
        foreach (var l in _listeners)
        {
            try { l.Dispose(); }
            catch (Exception ex) { Loop.ReportException(ex); }
        }
        _listeners.Clear();
        foreach (var s in _services)
        {
            ValueTask stop;
            try { stop = s.StopAsync(_deadline.Token); }
            catch (Exception ex)
            {
                Loop.ReportException(ex);
                continue;
            }
            if (!stop.IsCompletedSuccessfully) TrackTask(stop.AsTask());
        }
        CheckDrained();
    }

    /// <summary>The drain deadline passed: cancel the services' token and close the connections still open.
    /// Returns how many were closed.</summary>
    internal int Abort()
    {
        BeginDrain();
        try { _deadline.Cancel(); }
        catch (AggregateException ex) { Loop.ReportException(ex); }
        int closed = 0;
        foreach (var c in _connections.ToArray())
        {
            if (c.IsClosed) continue;
            closed++;
            try { c.Close(); }
            catch (Exception ex) { Loop.ReportException(ex); }
        }
        return closed;
    }

    /// <summary>After the loop's Run returned, before it is disposed: release what the host owns on this loop.</summary>
    internal void Teardown()
    {
        if (_tornDown) return;
        // A loop that died never drained: its listeners and services are released here all the same.
        foreach (var l in _listeners)
        {
            try { l.Dispose(); }
            catch (Exception ex) { Loop.ReportException(ex); }
        }
        _listeners.Clear();
        foreach (var r in _signals) r.Dispose();
        _signals.Clear();
        foreach (var s in _services)
        {
            if (s is not IDisposable d) continue;
            try { d.Dispose(); }
            catch (Exception ex) { Loop.ReportException(ex); }
        }
        _tornDown = true;
        try { _stopping.Cancel(); _deadline.Cancel(); }
        catch (AggregateException ex) { Loop.ReportException(ex); }
        _connections.Clear();
        _tasks.Clear();
        _drained.TrySetResult();
    }

    private void Untrack(LoopStream stream)
    {
        if (_tornDown) return;
        _connections.Remove(stream);
        CheckDrained();
    }

    private void Untrack(Task task)
    {
        if (_tornDown) return;
        _tasks.Remove(task);
        ReportFault(task);
        CheckDrained();
    }

    private void ReportFault(Task task)
    {
        if (task.Exception is { } ex && !_tornDown) Loop.ReportException(ex.InnerExceptions.Count == 1 ? ex.InnerException! : ex);
    }

    private void CheckDrained()
    {
        if (_draining && _connections.Count == 0 && _tasks.Count == 0) _drained.TrySetResult();
    }

    private static ListenerOptions WithReusePort(ListenerOptions o) => new()
    {
        Backlog = o.Backlog, ReuseAddress = o.ReuseAddress, ReusePort = true, IPv6Only = o.IPv6Only,
        MaxAcceptsPerIteration = o.MaxAcceptsPerIteration, ResourceErrorBackoff = o.ResourceErrorBackoff,
        ResolvePeerEndPoint = o.ResolvePeerEndPoint, NoDelay = o.NoDelay, AcceptQueueLimit = o.AcceptQueueLimit,
    };
}
