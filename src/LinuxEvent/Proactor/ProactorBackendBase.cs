using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>
/// A completion backend: the <see cref="LoopBackend"/> contract plus submission. Operations arrive from
/// <see cref="ProactorIoDriver.Submit"/> with slot, generation and pin assigned; the backend settles them through the
/// driver (<see cref="ProactorIoDriver.Settle"/> and the multishot deliveries) from <see cref="LoopBackend.Wait"/> only.
/// </summary>
internal abstract class ProactorBackendBase(ProactorIoDriver driver) : LoopBackend
{
    /// <summary>The driver completions are settled through.</summary>
    protected ProactorIoDriver Driver { get; } = driver;

    public virtual ProactorCapabilities? Capabilities => null;

    /// <summary>Whether this backend can serve stream receives from one shared provided-buffer ring (multishot receive
    /// with buffer selection).</summary>
    public abstract bool SupportsSharedReceiveRing { get; }

    /// <summary>Whether the calling thread may register a buffer pool now without binding the backend to it: false
    /// while no thread owns the ring yet, or on a thread that is not its owner.</summary>
    public abstract bool MayRegisterNow { get; }

    /// <summary>
    /// Queues the operation. Must not complete it inline: the result is delivered from <see cref="LoopBackend.Wait"/>.
    /// Throws (leaving nothing queued) on an argument the backend cannot encode.
    /// </summary>
    public abstract void Submit(Operation op);

    /// <summary>
    /// Queues the steps of a chain (their <see cref="Operation.ChainNext"/> links are set) so that each starts only when
    /// the one before it completed. Throws, leaving nothing queued, on a step the backend cannot encode.
    /// </summary>
    public virtual void SubmitChain(Operation[] steps)
    {
        foreach (var step in steps) Submit(step);
    }

    /// <summary>Puts <paramref name="fd"/> in the ring's registered file table (a <see cref="LoopFd"/>): the table index,
    /// or -1 when there is no table (the fake, an option off, a full table), and the fd is used by number.</summary>
    public virtual int RegisterFile(int fd) => -1;

    /// <summary>Clears an entry <see cref="RegisterFile"/> returned, before its fd is closed.</summary>
    public virtual void UnregisterFile(int slot) { }

    /// <summary>Registers <paramref name="pool"/>'s buffers with the ring so reads and writes inside them use
    /// READ_FIXED/WRITE_FIXED; the backend holds the pool's memory until it is disposed. The fake records nothing.</summary>
    public virtual void RegisterFileBuffers(AlignedBufferPool pool) { }

    /// <summary>Requests cancellation of a pending operation; the outcome arrives through <see cref="LoopBackend.Wait"/>.</summary>
    public abstract void Cancel(Operation op);

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

    /// <summary>True when disposal could not prove the kernel done with the loop's memory and deliberately leaked it
    /// (pins, ring mappings, provided-buffer memory) rather than risk corruption. Tests read it.</summary>
    internal virtual bool AbandonedAtDispose => false;
}
