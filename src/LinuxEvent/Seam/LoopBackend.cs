namespace LinuxEvent.Seam;

/// <summary>
/// Half of the model seam: how a loop waits, what wakes it, where its clock comes from. One contract for both models;
/// <see cref="Reactor.ReactorBackendBase"/> adds epoll-shaped registration and <see cref="Proactor.ProactorBackendBase"/>
/// adds submission. Everything the loop does above this line (timers, posts, signals, processes, async, components) is
/// written once and works on every backend.
/// </summary>
/// <remarks>
/// <para><b>Rules every backend keeps.</b></para>
/// <list type="number">
/// <item><see cref="Wait"/> is called by the loop thread only. It blocks at most <c>timeoutNs</c> (-1: until woken or
/// an event arrives; 0: poll), calls <see cref="Loop.OnWaitReturned"/> between the kernel wait and any dispatch, and
/// then dispatches what arrived. It never runs a callback for a request submitted in the same call before the wait
/// (callbacks are never inline from a submit).</item>
/// <item><see cref="Wake"/> is thread-safe and makes a concurrent or the next <see cref="Wait"/> return promptly. The
/// loop calls it at most once per drain of its post queue, so a counter behind it cannot overflow.</item>
/// <item><see cref="WatchReadable"/> watches an fd the loop itself owns (signalfd, pidfd) for readability with level
/// semantics: while it is readable, the callback keeps being called from <see cref="Wait"/>'s dispatch. The watch
/// never closes the fd. <see cref="OwnsFd"/> answers for those fds and for the backend's own (epoll fd, ring fd, wake
/// eventfd): user code must never be able to register them.</item>
/// <item><see cref="HasQueuedWork"/> is true when events are queued that need no kernel wait (the fakes): the loop
/// then waits zero.</item>
/// <item><see cref="ReadClock"/> is CLOCK_MONOTONIC on real backends. A fake backend is on a virtual clock
/// (<see cref="IsVirtualClock"/>) that moves only when a test advances it or when the loop would otherwise sleep.</item>
/// <item>Disposal is two steps, both on the disposing thread: the I/O driver settles what it owns (a proactor asks
/// its backend to cancel and drain every operation), then <see cref="Dispose"/> releases every kernel resource of the
/// backend, exactly once.</item>
/// </list>
/// </remarks>
internal abstract class LoopBackend : IDisposable
{
    /// <summary>The backend's name: "epoll", "uring" or "fake".</summary>
    public abstract string Name { get; }

    /// <summary>Waits up to <paramref name="timeoutNs"/> (-1 = no limit, 0 = poll) and dispatches what arrived.</summary>
    public abstract void Wait(long timeoutNs);

    /// <summary>Interrupts a (possibly concurrent) <see cref="Wait"/>. Thread-safe.</summary>
    public abstract void Wake();

    /// <summary>Watches an fd the loop owns (signalfd, pidfd) for readability, level semantics; never closes it.</summary>
    public abstract InternalWatch WatchReadable(int fd, Action<object?> callback, object? state);

    /// <summary>True if <paramref name="fd"/> belongs to the loop itself (its kernel objects, or an internal watch).</summary>
    public abstract bool OwnsFd(int fd);

    /// <summary>True when events are queued that need no kernel wait.</summary>
    public virtual bool HasQueuedWork => false;

    /// <summary>True for a fake backend on a virtual clock.</summary>
    public virtual bool IsVirtualClock => false;

    /// <summary>The loop's clock in nanoseconds: CLOCK_MONOTONIC, or the fake's virtual clock.</summary>
    public virtual long ReadClock() => Loop.MonotonicNanoseconds();

    /// <summary>Releases every kernel resource of the backend. Called once, by disposal, after the driver settled.</summary>
    public abstract void Dispose();
}
