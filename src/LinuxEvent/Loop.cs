using LinuxEvent.Seam;

namespace LinuxEvent;

/// <summary>
/// The front door: one event loop, driven by one thread, running one explicitly chosen <see cref="LoopModel"/>.
/// </summary>
/// <remarks>
/// <para><b>Threading.</b> A loop is driven by the thread that calls <see cref="Run()"/> or <see cref="RunOnce"/>.
/// Every member is loop-thread only except <see cref="Post(Action{Loop})"/>, <see cref="Stop"/> and
/// <see cref="Dispose"/>, which are safe from any thread. Calling a loop-thread member from another thread while
/// the loop runs throws <see cref="InvalidOperationException"/>, the same way on both models.</para>
/// <para><b>Iteration.</b> One iteration: wait in the kernel (never longer than the next timer deadline, and not at all
/// when work is already queued or a stop was requested), dispatch I/O events, fire due timers in
/// (deadline, scheduling order), run posted actions, then run deferred continuations.
/// Callbacks never run inline from the call that scheduled them.</para>
/// <para><b>Errors.</b> A callback that throws does not kill the loop: the exception goes to
/// <see cref="UnhandledException"/>. With no handler, the loop finishes the current iteration (so no event of that
/// batch is lost), leaves <see cref="Run()"/>/<see cref="RunOnce"/> by rethrowing the exception (an
/// <see cref="AggregateException"/> if several callbacks threw), and is consistent: it can be run again.</para>
/// <para><b>Where things are.</b> This class is split by aspect: <c>Loop.Timers.cs</c>, <c>Loop.Posts.cs</c>,
/// <c>Loop.Running.cs</c>, <c>Loop.Disposal.cs</c>, <c>Loop.Components.cs</c>, <c>Loop.Signals.cs</c>,
/// <c>Loop.Processes.cs</c>, <c>Loop.Async.cs</c>, <c>Loop.Io.cs</c>, <c>Loop.Register.cs</c>. The model-specific
/// part is the backend and the I/O driver it was created with (<c>Seam/</c>).</para>
/// </remarks>
public abstract partial class Loop : IDisposable, IAsyncDisposable
{
    private long _now;
    private readonly object _stateLock = new();
    private int _runningThread;                // managed thread id inside Run/RunOnce, 0 otherwise
    private int _drainingThread;               // the thread running DisposeCore's final drain, 0 otherwise
    private bool _disposeRequested, _disposed;

    /// <summary>
    /// Creates the loop around its backend and I/O driver (the two halves of the model seam). Called by the model's
    /// constructor once both exist; the clock is read from the backend from here on.
    /// </summary>
    private protected Loop(LoopModel model)
    {
        Model = model;
    }

    /// <summary>The backend: how this loop waits, what wakes it, and where its clock comes from.</summary>
    internal LoopBackend Backend { get; private set; } = null!;

    /// <summary>The I/O driver: how the async operations above the seam reach the kernel on this model.</summary>
    internal IoDriver Driver { get; private set; } = null!;

    /// <summary>Installs the two halves of the seam; the model constructors call it once, before anything else runs.</summary>
    private protected void Attach(LoopBackend backend, IoDriver driver)
    {
        Backend = backend;
        Driver = driver;
        UpdateNow();
        Metrics = LoopMeter.Register(this);
    }

    /// <summary>This loop's counters (published through the <c>LinuxEvent</c> meter, <see cref="LoopMeter"/>).</summary>
    public LoopMetrics Metrics { get; private set; } = null!;

    /// <summary>Posted actions not yet run (the meter's posted backlog).</summary>
    internal int PostedBacklog => _postCount;

    /// <summary>Async I/O pending (the meter's live operations).</summary>
    internal int LiveIoCount => Driver.LiveCount;

    // ------------------------------------------------------------------ factory

    /// <summary>Creates a loop of <paramref name="model"/> with that model's default backend (epoll or io_uring).</summary>
    /// <exception cref="LinuxEventUnsupportedException">The kernel lacks what the model needs (e.g. io_uring disabled).</exception>
    public static Loop Create(LoopModel model) => model switch
    {
        LoopModel.Reactor => CreateReactor(),
        LoopModel.Proactor => CreateProactor(),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Loop.Create: unknown LoopModel."),
    };

    /// <summary>Creates a reactor (readiness) loop. Backend <see cref="ReactorBackend.Epoll"/> unless options say otherwise.</summary>
    public static ReactorLoop CreateReactor(ReactorOptions? options = null) => new(options ?? new ReactorOptions());

    /// <summary>
    /// Creates a proactor (completion) loop. Backend <see cref="ProactorBackend.Uring"/> unless options say otherwise.
    /// </summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable (ENOSYS, EPERM from seccomp, or
    /// <c>kernel.io_uring_disabled</c>); the message names the reactor model as the alternative.</exception>
    public static ProactorLoop CreateProactor(ProactorOptions? options = null) => new(options ?? new ProactorOptions());

    // ------------------------------------------------------------------ identity and clock

    /// <summary>The model this loop runs.</summary>
    public LoopModel Model { get; }

    /// <summary>The backend: <c>"epoll"</c>, <c>"uring"</c> or <c>"fake"</c>.</summary>
    public string BackendName => Backend.Name;

    /// <summary>True when the backend is a deterministic fake on a virtual clock.</summary>
    public bool IsFake => Backend.IsVirtualClock;

    /// <summary>
    /// CLOCK_MONOTONIC in nanoseconds, read when the loop is entered and after each kernel wait (and before it when a
    /// timer bounds the wait), so every callback of a batch sees the same time. Under a Fake backend this is the
    /// virtual clock, which only moves when the test advances it or when the loop would otherwise sleep.
    /// </summary>
    public long NowNanoseconds => _now;

    /// <summary>Reads CLOCK_MONOTONIC now, in nanoseconds (the clock <see cref="At(long, Action{Loop})"/> uses for real backends).</summary>
    public static unsafe long MonotonicNanoseconds()
    {
        Native.Libc.Timespec ts;
        Native.Libc.ClockGetTime(Native.Libc.CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1_000_000_000L + ts.tv_nsec;
    }

    private void UpdateNow() => _now = Backend.ReadClock();

    /// <summary>
    /// Re-reads the clock after the kernel wait and before I/O callbacks run, so they (and timers they schedule) see the
    /// time at which the events arrived, not the time before the wait. Timers due by then fire in this iteration.
    /// Backends call it between their wait and their dispatch; the fake controls call it after moving virtual time.
    /// </summary>
    internal void OnWaitReturned() => UpdateNow();

    /// <summary>True while <see cref="Run()"/> or <see cref="RunOnce"/> executes on some thread.</summary>
    public bool IsRunning => Volatile.Read(ref _runningThread) != 0;

    /// <summary>True once <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposeRequested;

    /// <summary>
    /// Receives exceptions thrown by callbacks (and by spawned tasks). When null, the loop rethrows from
    /// <see cref="Run()"/>/<see cref="RunOnce"/> after finishing the iteration. If the handler itself throws, that
    /// exception is rethrown the same way.
    /// </summary>
    public Action<Loop, Exception>? UnhandledException { get; set; }

    // ------------------------------------------------------------------ the loop-thread rule

    /// <summary>Throws <see cref="ObjectDisposedException"/> if the loop is disposed (or being disposed).</summary>
    private protected void ThrowIfDisposed()
    {
        if (_disposeRequested) ThrowDisposed();
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(GetType().Name, $"This {BackendName} {Model} loop has been disposed.");

    /// <summary>
    /// Enforces "one loop, one thread" for a loop-only call: while the loop runs, a call from any other thread is
    /// refused with <see cref="InvalidOperationException"/>. Every loop-only entry point of both models, and of the
    /// components built on them (streams, listeners, channels), goes through this one check, so a call is refused the
    /// same way whatever the model. Components written outside the library call it at the top of their loop-only
    /// members. (Before the loop runs, the thread setting it up counts as the loop thread.)
    /// </summary>
    /// <param name="call">The call being checked, for the message (e.g. "LoopStream.Write").</param>
    /// <exception cref="InvalidOperationException">The loop is running on another thread.</exception>
    public void CheckLoopThread(string call)
    {
        int running = _runningThread;
        if (running != 0 && running != Environment.CurrentManagedThreadId) ThrowHelper.WrongThread(call);
    }

    /// <summary>The loop-thread rule plus "not disposed", for the core's own loop-only calls.</summary>
    internal void CheckThread(string call)
    {
        if (_disposeRequested) ThrowDisposed();
        CheckLoopThread(call);
    }

    /// <summary>True when the caller is the thread currently running the loop.</summary>
    public bool IsOnLoopThread => _runningThread == Environment.CurrentManagedThreadId;

    /// <summary>
    /// True while another thread owns the loop's teardown: it runs the loop (which disposes when its iteration ends) or
    /// runs DisposeCore. Components then leave their cleanup to the disposal hooks instead of racing them.
    /// </summary>
    internal bool IsTornDownElsewhere
    {
        get
        {
            if (!_disposeRequested) return false;
            int me = Environment.CurrentManagedThreadId, running = _runningThread, draining = _drainingThread;
            return (running != 0 && running != me) || (draining != 0 && draining != me);
        }
    }

    /// <summary>
    /// True when work may be queued on the ready ring from this thread: the loop thread, or the thread disposing the
    /// loop while it drains what disposal settled.
    /// </summary>
    internal bool CanDeferHere => _runningThread == Environment.CurrentManagedThreadId
        || (_drainingThread != 0 && _drainingThread == Environment.CurrentManagedThreadId);

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}({BackendName}{(_disposeRequested ? ", disposed" : IsRunning ? ", running" : "")})";
}
