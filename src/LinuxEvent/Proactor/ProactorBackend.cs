namespace LinuxEvent.Proactor;

/// <summary>What a completion backend must do for <see cref="ProactorLoop"/>.</summary>
internal abstract class ProactorBackendBase : IDisposable
{
    public abstract string Name { get; }
    public virtual ProactorCapabilities? Capabilities => null;
    public virtual bool IsVirtualClock => false;
    public virtual long VirtualNow => 0;

    /// <summary>True when settled operations wait for dispatch without a kernel wait.</summary>
    public virtual bool HasQueuedCompletions => false;

    /// <summary>
    /// Queues the operation (slot, generation and pin are already assigned). Must not complete it inline: the result
    /// is delivered from <see cref="Wait"/>. Throws (leaving nothing queued) on an argument the backend cannot encode.
    /// </summary>
    public abstract void Submit(Operation op);

    /// <summary>Requests cancellation of a pending operation; the outcome arrives through <see cref="Wait"/>.</summary>
    public abstract void Cancel(Operation op);

    /// <summary>Submits what is queued and waits up to timeoutNs (-1 = no limit) for completions, dispatching them.</summary>
    public abstract void Wait(long timeoutNs);

    /// <summary>Thread-safe wakeup of <see cref="Wait"/>.</summary>
    public abstract void Wake();

    /// <summary>Watches an fd the loop owns (signalfd, pidfd) for readability.</summary>
    public abstract InternalWatch WatchReadable(int fd, Action<object?> callback, object? state);

    /// <summary>Creates a provided-buffer pool.</summary>
    public abstract ProvidedBufferPool CreateBufferPool(int count, int size);

    /// <summary>
    /// Hands requests queued since the last kernel entry to the kernel now, without waiting. Called before an fd that
    /// such a request names by number is closed: the kernel resolves the number when it consumes the SQE, so a request
    /// still queued at close would fail with EBADF, or act on whatever file reuses the number.
    /// </summary>
    public abstract void FlushSubmissions(string call);

    /// <summary>Throws <see cref="InvalidOperationException"/> if this thread may not enter the kernel for this backend.</summary>
    public abstract void CheckKernelAccess(string call);

    /// <summary>Disposal step 1: cancel everything in flight and wait until every operation has settled.</summary>
    public abstract void DrainForDispose();

    /// <summary>Disposal step 2: release kernel resources.</summary>
    public abstract void Dispose();
}

/// <summary>A pool's backend-specific storage.</summary>
internal abstract class BufferPoolStorage : IDisposable
{
    public abstract Span<byte> Buffer(ushort id, int length);
    public abstract void Recycle(ushort id);
    public abstract void Dispose();
}
