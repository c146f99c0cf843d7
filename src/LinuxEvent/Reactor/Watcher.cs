namespace LinuxEvent;

/// <summary>
/// A registration of one fd with a <see cref="ReactorLoop"/>. Mutable handle; loop-thread only.
/// The watcher never owns the fd: cancelling it does not close the fd, and closing the fd first is allowed
/// (the kernel drops the epoll registration when the last reference to the file goes).
/// </summary>
public sealed class Watcher : IDisposable
{
    internal readonly Reactor.ReactorIoDriver Driver;
    internal readonly uint Generation;
    internal bool ReadEnabled, WriteEnabled, Armed, Registered, Active = true;
    internal uint ExtraEvents;          // interest bits beyond Read/Write (LoopFd registrations: EPOLLRDHUP | EPOLLPRI)
    internal uint LastEvents;           // the epoll bits of the report being dispatched
    internal readonly bool EdgeTriggered, OneShot, Exclusive;
    internal readonly Action<Watcher>? OnReadable, OnWritable, OnError;

    internal Watcher(Reactor.ReactorIoDriver driver, int fd, uint generation, WatchOptions options,
        Action<Watcher>? onReadable, Action<Watcher>? onWritable, Action<Watcher>? onError)
    {
        Driver = driver;
        Fd = fd;
        Generation = generation;
        ReadEnabled = (options & WatchOptions.Read) != 0;
        WriteEnabled = (options & WatchOptions.Write) != 0;
        EdgeTriggered = (options & WatchOptions.EdgeTriggered) != 0;
        OneShot = (options & WatchOptions.OneShot) != 0;
        Exclusive = (options & WatchOptions.Exclusive) != 0;
        OnReadable = onReadable;
        OnWritable = onWritable;
        OnError = onError;
    }

    /// <summary>The loop this watcher belongs to.</summary>
    public ReactorLoop Loop => Driver.Reactor;

    /// <summary>The watched fd.</summary>
    public int Fd { get; }

    /// <summary>False once cancelled, unwatched, replaced by a newer <see cref="ReactorLoop.Watch"/> of the same fd, or the loop disposed.</summary>
    public bool IsActive => Active;

    /// <summary>Whether readability is currently reported.</summary>
    public bool IsReadEnabled => ReadEnabled;

    /// <summary>Whether writability is currently reported.</summary>
    public bool IsWriteEnabled => WriteEnabled;

    /// <summary>Free slot for the owner (e.g. a connection object), so callbacks need no closure.</summary>
    public object? Data { get; set; }

    /// <summary>
    /// Turns read interest on (EPOLL_CTL_MOD). For a one-shot watcher this also re-arms it, even if the interest is
    /// unchanged. No-op if nothing changes on a level- or edge-triggered watcher.
    /// </summary>
    /// <exception cref="InvalidOperationException">The watcher is no longer active.</exception>
    public void EnableRead() => Driver.UpdateInterest(this, read: true, write: WriteEnabled, nameof(EnableRead));

    /// <summary>Turns read interest off. With both directions off the fd is removed from the kernel set (no error or hang-up reports) until re-enabled.</summary>
    public void DisableRead() => Driver.UpdateInterest(this, read: false, write: WriteEnabled, nameof(DisableRead));

    /// <summary>Turns write interest on (and re-arms a one-shot watcher). See <see cref="EnableRead"/>.</summary>
    public void EnableWrite() => Driver.UpdateInterest(this, read: ReadEnabled, write: true, nameof(EnableWrite));

    /// <summary>Turns write interest off. See <see cref="DisableRead"/>.</summary>
    public void DisableWrite() => Driver.UpdateInterest(this, read: ReadEnabled, write: false, nameof(DisableWrite));

    /// <summary>
    /// Sets both directions in one epoll_ctl (e.g. switching a connection from reading to flushing a backlog costs one
    /// syscall instead of two). Re-arms a one-shot watcher when at least one direction is on.
    /// </summary>
    public void SetInterest(bool read, bool write) => Driver.UpdateInterest(this, read, write, nameof(SetInterest));

    /// <summary>
    /// Stops watching. Returns true the first time, false after (idempotent). Events already collected in the batch
    /// being dispatched are not delivered to a cancelled watcher. Does not close the fd.
    /// </summary>
    public bool Cancel() => Driver.CancelWatcher(this);

    /// <summary>Same as <see cref="Cancel"/>, for <c>using</c>.</summary>
    public void Dispose() => Cancel();

    /// <inheritdoc />
    public override string ToString() => $"Watcher(fd={Fd}, read={ReadEnabled}, write={WriteEnabled}, active={Active})";
}
