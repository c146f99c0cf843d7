using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's per-fd async state: the <see cref="IoFd"/> kept above the seam, plus the readiness registration and
/// (for a <see cref="LoopFd"/>) what is known about each direction's readiness.
/// </summary>
internal sealed class ReactorFd(int fd) : IoFd(fd)
{
    /// <summary>The fd-number path's one-shot watcher, or a registration's edge-triggered one.</summary>
    public Watcher? Watcher;

    // Registered (LoopFd) mode: what is known about each direction (true = try the syscall; false = wait for the next
    // edge). See ReactorIoDriver.NoteTransfer.
    public bool Readable, Writable;

    // May a short transfer clear the direction without an EAGAIN? Writes: any stream socket. Reads: TCP only, and only
    // until urgent data (EPOLLPRI) shows up. ReadShutdown: the peer's FIN (or an error) has been reported, so reads stay
    // "ready" for good (they return 0 or the error at once).
    public bool ShortWriteRule, ShortReadRule, ReadShutdown;

    // Data arrived while nobody waited on this fd (a readable edge with no parked reader): the peer streams, so a short
    // read is likely followed by more data already queued.
    public bool Streaming;
}
