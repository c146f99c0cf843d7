using LinuxEvent.Net;

namespace LinuxEvent.Hosting;

/// <summary>
/// Options of the hosted loops (<see cref="LinuxEventServiceCollectionExtensions.AddLinuxEventLoops"/>): how many, of
/// which model and backend, how each is set up, how the host stops them and what a dead loop does to the host.
/// Read once, when the host starts.
/// </summary>
public sealed class LinuxEventHostingOptions
{
    /// <summary>The model of every loop: <see cref="LoopModel.Reactor"/> (epoll, the default) or
    /// <see cref="LoopModel.Proactor"/> (io_uring).</summary>
    public LoopModel Model { get; set; } = LoopModel.Reactor;

    /// <summary>Backend of reactor loops: <see cref="LinuxEvent.ReactorBackend.Epoll"/> (default) or
    /// <see cref="LinuxEvent.ReactorBackend.Fake"/> (tests).</summary>
    public ReactorBackend ReactorBackend { get; set; } = ReactorBackend.Epoll;

    /// <summary>Backend of proactor loops: <see cref="LinuxEvent.ProactorBackend.Uring"/> (default) or
    /// <see cref="LinuxEvent.ProactorBackend.Fake"/> (tests).</summary>
    public ProactorBackend ProactorBackend { get; set; } = ProactorBackend.Uring;

    /// <summary>Submission queue entries of each proactor loop (<see cref="ProactorOptions.QueueDepth"/>); default 256.
    /// Ignored by reactor loops.</summary>
    public int QueueDepth { get; set; } = 256;

    /// <summary>Number of loops, each on its own thread; default <see cref="Environment.ProcessorCount"/>. 1..1024.</summary>
    public int LoopCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Pin loop i's thread to CPU i (modulo the processor count). Default false.</summary>
    public bool PinThreads { get; set; }

    /// <summary>
    /// Called on each loop's thread before the loop runs (and again on a restarted loop): create listeners
    /// (<see cref="HostedLoop.Listen"/>, <see cref="HostedLoop.ListenActivated"/>), timers and so on. Runs after the
    /// loop services registered with <see cref="LinuxEventServiceCollectionExtensions.AddLoopService{TService}"/> were
    /// started on that loop. Several loops run it at the same time: keep shared state thread-safe.
    /// </summary>
    public Action<HostedLoop>? Setup { get; set; }

    /// <summary>
    /// How long open connections may take to finish once the host stops: after the deadline, tracked connections
    /// (<see cref="HostedLoop.TrackConnection(LoopStream)"/>) are closed and the loops stop. Null (the default) drains
    /// until the host's own shutdown timeout (<c>HostOptions.ShutdownTimeout</c>) is about to cancel the stop.
    /// </summary>
    public TimeSpan? DrainTimeout { get; set; }

    /// <summary>What a loop that dies does to the host; default <see cref="LoopFailurePolicy.StopApplication"/>.</summary>
    public LoopFailurePolicy FailurePolicy { get; set; } = LoopFailurePolicy.StopApplication;

    /// <summary>The process exit code set (<see cref="Environment.ExitCode"/>) when a dead loop stops the application;
    /// default 1. Must not be 0.</summary>
    public int FailureExitCode { get; set; } = 1;

    /// <summary>With <see cref="LoopFailurePolicy.Restart"/>: restarts allowed within <see cref="RestartWindow"/>
    /// before the host stops instead; default 5.</summary>
    public int MaxRestarts { get; set; } = 5;

    /// <summary>The window <see cref="MaxRestarts"/> is counted over; default one minute.</summary>
    public TimeSpan RestartWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>systemd socket activation and notifications.</summary>
    public LinuxEventSystemdOptions Systemd { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    internal void Validate()
    {
        if (Model is not (LoopModel.Reactor or LoopModel.Proactor))
            throw new ArgumentOutOfRangeException(nameof(Model), Model, "LinuxEventHostingOptions.Model: unknown LoopModel.");
        if (LoopCount is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(LoopCount), LoopCount, "LinuxEventHostingOptions.LoopCount must be in 1..1024.");
        if (QueueDepth < 1)
            throw new ArgumentOutOfRangeException(nameof(QueueDepth), QueueDepth, "LinuxEventHostingOptions.QueueDepth must be positive.");
        if (DrainTimeout is { } d && d < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(DrainTimeout), d, "LinuxEventHostingOptions.DrainTimeout must not be negative.");
        if (FailureExitCode == 0)
            throw new ArgumentOutOfRangeException(nameof(FailureExitCode), FailureExitCode, "LinuxEventHostingOptions.FailureExitCode must not be 0: a dead loop is a failure.");
        if (MaxRestarts < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxRestarts), MaxRestarts, "LinuxEventHostingOptions.MaxRestarts must not be negative.");
        if (RestartWindow <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(RestartWindow), RestartWindow, "LinuxEventHostingOptions.RestartWindow must be positive.");
    }

    /// <summary>Creates a loop as these options say (called on the loop's thread).</summary>
    internal Loop CreateLoop() => Model == LoopModel.Reactor
        ? Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend })
        : Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend, QueueDepth = QueueDepth });
}
