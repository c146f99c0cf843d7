namespace LinuxEvent.Seam;

/// <summary>A watch of an fd the loop itself owns (signalfd, pidfd), made by <see cref="LoopBackend.WatchReadable"/>.</summary>
internal abstract class InternalWatch
{
    /// <summary>Stops watching. Idempotent. The fd itself is not closed.</summary>
    public abstract void Cancel();
}
