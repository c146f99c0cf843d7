using LinuxEvent.Hosting.Systemd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LinuxEvent.Hosting;

/// <summary>
/// The hosted service behind <see cref="LinuxEventServiceCollectionExtensions.AddLinuxEventLoops"/>: runs a
/// <see cref="LoopGroup"/> for the lifetime of the host. Resolve it to reach the loops (<see cref="Loops"/>).
/// </summary>
/// <remarks>
/// <para><b>Start</b> (<see cref="StartAsync"/>): takes the sockets passed by systemd socket activation, starts
/// <see cref="LinuxEventHostingOptions.LoopCount"/> loops, each created and run on its own thread, and on each runs
/// the registered <see cref="ILoopService"/>s' <see cref="ILoopService.Start"/> and then
/// <see cref="LinuxEventHostingOptions.Setup"/>. It returns once every loop runs; a failing setup fails the host's
/// start. Once the whole host has started (<see cref="StartedAsync"/>) it sends <c>READY=1</c> to systemd.</para>
/// <para><b>Stop</b>, in order:</para>
/// <list type="number">
/// <item><see cref="StoppingAsync"/> (before any hosted service's StopAsync): <c>STOPPING=1</c> to systemd; on every
/// loop's thread <see cref="HostedLoop.Stopping"/> is cancelled, the tracked listeners are disposed (no new
/// connections; connections still in the kernel's backlog of an activated socket stay there for the next instance),
/// and each <see cref="ILoopService.StopAsync"/> is called.</item>
/// <item><see cref="StopAsync"/>: waits until every loop has drained (tracked connections closed, tracked tasks
/// done) or the drain deadline passed: <see cref="LinuxEventHostingOptions.DrainTimeout"/>, or the host's shutdown
/// token (<c>HostOptions.ShutdownTimeout</c>), whichever comes first.</item>
/// <item>On every loop's thread: the services' stop token is cancelled, tracked connections still open are closed
/// (and counted in a warning), and the loop stops.</item>
/// <item>On every loop's thread, after its Run returned: tracked listeners left are disposed, the loop services that
/// are <see cref="IDisposable"/> are disposed, and the loop is disposed, which closes everything still attached to it.
/// Then the activated sockets are closed.</item>
/// </list>
/// <para><b>Errors.</b> Every loop's <see cref="Loop.UnhandledException"/> goes to this service's
/// <see cref="ILogger"/> with the loop index and backend; the loop keeps running. A loop that dies anyway (its
/// handler was replaced and a callback threw, its backend failed, or code called <see cref="Loop.Stop"/> on it) is
/// logged as critical and handled by <see cref="LinuxEventHostingOptions.FailurePolicy"/>.</para>
/// <para><b>Signals.</b> This service subscribes to no signal: SIGTERM and SIGINT stay with the host's lifetime
/// (its <c>PosixSignalRegistration</c>s), which stops the host cleanly. Code on the hosted loops must not subscribe
/// to signals with <see cref="Loop.Signal(System.Runtime.InteropServices.PosixSignal, Action{Loop, SignalEvent})"/>: the loop's signalfd can take a signal before the runtime's handlers
/// see it (SIGTERM: the host would never stop). Use <see cref="HostedLoop.Stopping"/> to react to shutdown and
/// <see cref="HostedLoop.RegisterSignal"/> for other signals (e.g. SIGHUP to reload).</para>
/// </remarks>
public sealed partial class LinuxEventHostedService : IHostedLifecycleService, IDisposable
{
    private readonly LinuxEventHostingOptions _options;
    private readonly IServiceProvider _services;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly Queue<DateTime> _restarts = new();
    private LoopGroup? _group;
    private HostedLoop?[] _hosted = [];
    private IReadOnlyList<ActivatedSocket> _activated = [];
    private LoopServiceRegistration[] _loopServices = [];
    private SystemdNotifier? _notifier;
    private WatchdogRounds? _watchdog;
    private TimeSpan _watchdogPeriod;
    private bool _lifetimeNotifies;
    private int _stopping, _stopped, _aborting, _released;

    /// <summary>Creates the service (the container does).</summary>
    public LinuxEventHostedService(IOptions<LinuxEventHostingOptions> options, IServiceProvider services,
        IHostApplicationLifetime lifetime, ILogger<LinuxEventHostedService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _services = services;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <summary>The loops, index = loop number (empty before the host started). A restarted loop replaces its entry.</summary>
    public IReadOnlyList<HostedLoop> Loops => _hosted!;

    /// <summary>The sockets systemd passed (empty without socket activation), owned by this service.</summary>
    public IReadOnlyList<ActivatedSocket> ActivatedSockets => _activated;

    /// <summary>Watchdog pings sent so far (diagnostics).</summary>
    public long WatchdogPings => _watchdog?.Completed ?? 0;

    /// <summary>Nothing to do before the other services start.</summary>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts the loops (see the class remarks). Returns once every loop runs.</summary>
    /// <exception cref="AggregateException">A loop could not be created or its setup threw; nothing is left running.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        if (_group is not null) throw new InvalidOperationException("LinuxEventHostedService: already started.");
        if (_options.Systemd.SocketActivation) _activated = SocketActivation.TakeFromEnvironment();
        foreach (var s in _activated) Log.Activated(_logger, s);
        var env = _services.GetService<SystemdEnvironment>() ?? SystemdEnvironment.Capture();
        if (_options.Systemd.Notify || _options.Systemd.Watchdog) _notifier = SystemdNotifier.Create(env.NotifySocket);
        // With UseSystemd() under systemd, SystemdLifetime sends READY=1 and STOPPING=1 itself (at ApplicationStarted,
        // which follows our start, and ApplicationStopping); repeating them would be harmless but noisy.
        _lifetimeNotifies = _services.GetService<IHostLifetime>()?.GetType().FullName == "Microsoft.Extensions.Hosting.Systemd.SystemdLifetime";
        if (_options.Systemd.Watchdog && _notifier is not null
            && WatchdogRounds.Period(env.WatchdogUsec, env.WatchdogPid, Posix.GetProcessId()) is { } period)
        {
            _watchdogPeriod = period;
            _watchdog = new WatchdogRounds(_options.LoopCount);
            Log.WatchdogOn(_logger, period);
        }
        _loopServices = _services.GetServices<LoopServiceRegistration>().ToArray();
        _hosted = new HostedLoop?[_options.LoopCount];
        try
        {
            _group = LoopGroup.Start(_options.LoopCount, CreateLoop, SetUpLoop, _options.PinThreads, TearDownLoop, OnLoopFailed);
        }
        catch (Exception ex)
        {
            Log.StartFailed(_logger, ex);
            Release();
            throw;
        }
        Log.LoopsRunning(_logger, _options.LoopCount, _options.Model, _group.Loops[0].BackendName);
        return Task.CompletedTask;
    }

    /// <summary>Sends <c>READY=1</c> (with a STATUS line) to systemd: every loop runs and the host has started.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_group is not null && _options.Systemd.Notify)
            Notify($"{(_lifetimeNotifies ? "" : "READY=1\n")}STATUS={_options.LoopCount} {_options.Model.ToString().ToLowerInvariant()} loops running");
        return Task.CompletedTask;
    }

    /// <summary>Sends <c>STOPPING=1</c> and starts the drain on every loop (see the class remarks).</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        BeginDrain();
        return Task.CompletedTask;
    }

    /// <summary>Waits for the drain up to its deadline, then closes what is left and stops and disposes the loops,
    /// each on its own thread (see the class remarks).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var group = _group;
        if (group is null || Interlocked.Exchange(ref _stopped, 1) == 1) return;
        BeginDrain();        // a host without lifecycle services calls only StopAsync
        var drained = Task.WhenAll(_hosted.Where(h => h is not null).Select(h => h!.Drained));
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (_options.DrainTimeout is { } d) deadline.CancelAfter(d);
            Log.Draining(_logger, group.Count, _options.DrainTimeout is { } t ? t.ToString() : "the host's shutdown timeout");
            try { await drained.WaitAsync(deadline.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        // Each loop closes what is left and stops itself (so the close runs before Run returns); LoopGroup reports
        // that as an unexpected end, which OnLoopFailed ignores once _aborting is set.
        Volatile.Write(ref _aborting, 1);
        var ended = new List<Task>();
        for (int i = 0; i < _hosted.Length; i++)
        {
            var h = Volatile.Read(ref _hosted[i]);
            if (h is null) continue;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                h.Loop.Post(static (loop, s) =>
                {
                    var (self, hl, tcs) = ((LinuxEventHostedService, HostedLoop, TaskCompletionSource))s!;
                    int closed = hl.Abort();
                    if (closed > 0) Log.ClosedAtDeadline(self._logger, closed, hl.Index);
                    loop.Stop();
                    tcs.TrySetResult();
                }, (this, h, done));
                ended.Add(done.Task);
            }
            catch (ObjectDisposedException) { }      // that loop is already gone
        }
        await Task.Run(() => StopGroup(group, ended)).ConfigureAwait(false);
        Release();
        Log.Stopped(_logger);
    }

    /// <summary>Nothing to do after the other services stopped.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops and disposes the loops if the host did not (e.g. it failed to start after this service), and
    /// closes the activated sockets.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _stopping, 1);
        // After StopAsync the loops are stopped (or were given up on as stuck: joining them again could hang the exit).
        if (Volatile.Read(ref _stopped) == 0) _group?.Dispose();
        Release();
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Bound on how long stopped loops may take to tear down and dispose before we give up on them.</summary>
    private static readonly TimeSpan StopJoinTimeout = TimeSpan.FromSeconds(10);

    private void BeginDrain()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 1 || _group is null) return;
        if (_options.Systemd.Notify && !_lifetimeNotifies) Notify("STOPPING=1\nSTATUS=draining");
        for (int i = 0; i < _hosted.Length; i++)
        {
            var h = Volatile.Read(ref _hosted[i]);
            if (h is null) continue;
            try { h.Loop.Post(static (_, s) => ((HostedLoop)s!).BeginDrain(), h); }
            catch (ObjectDisposedException) { }
        }
    }

    private void StopGroup(LoopGroup group, List<Task> ended)
    {
        // The posted stops end the loops after they closed what was left; a loop stuck in a callback never runs its
        // post, so the wait is bounded and the group is stopped regardless.
        Task.WaitAll(ended.ToArray(), StopJoinTimeout);
        group.Stop();
        try
        {
            if (!group.Join(StopJoinTimeout))
            {
                for (int i = 0; i < group.Count; i++)
                    if (!group.Loops[i].IsDisposed) Log.StuckAtStop(_logger, i, StopJoinTimeout);
            }
        }
        catch (AggregateException ex) { Log.StopErrors(_logger, ex); }
    }

    private void Notify(string state)
    {
        if (_notifier is { } n && !n.Send(state, out var error)) Log.NotifyFailed(_logger, n.Address, error, state);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1) return;
        foreach (var s in _activated) Posix.CloseQuietly(s.Fd);
        _notifier?.Dispose();
    }
}
