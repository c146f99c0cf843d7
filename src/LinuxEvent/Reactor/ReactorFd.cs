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

    [Flags]
    private enum Bits : byte
    {
        None = 0,
        Readable = 1 << 0,
        Writable = 1 << 1,
        ShortWriteRule = 1 << 2,
        ShortReadRule = 1 << 3,
        ReadShutdown = 1 << 4,
        Streaming = 1 << 5,
    }

    private Bits _bits;

    private bool Get(Bits b) => (_bits & b) != 0;

    private void Put(Bits b, bool on) => _bits = on ? _bits | b : _bits & ~b;

    // Registered (LoopFd) mode: what is known about each direction (true = try the syscall; false = wait for the next
    // edge). See ReactorIoDriver.NoteTransfer.

    /// <summary>The read side may be ready: try the syscall.</summary>
    public bool Readable { get => Get(Bits.Readable); set => Put(Bits.Readable, value); }

    /// <summary>The write side may be ready: try the syscall.</summary>
    public bool Writable { get => Get(Bits.Writable); set => Put(Bits.Writable, value); }

    /// <summary>A short write clears <see cref="Writable"/> without an EAGAIN probe (any stream socket).</summary>
    public bool ShortWriteRule { get => Get(Bits.ShortWriteRule); set => Put(Bits.ShortWriteRule, value); }

    /// <summary>A short read clears <see cref="Readable"/> without an EAGAIN probe (TCP only, until urgent data shows up).</summary>
    public bool ShortReadRule { get => Get(Bits.ShortReadRule); set => Put(Bits.ShortReadRule, value); }

    /// <summary>The peer's FIN (or an error) has been reported: reads stay "ready" for good (they return 0 or the error).</summary>
    public bool ReadShutdown { get => Get(Bits.ReadShutdown); set => Put(Bits.ReadShutdown, value); }

    /// <summary>Data arrived while nobody waited (a readable edge with no parked reader): the peer streams, so a short
    /// read is likely followed by more data already queued.</summary>
    public bool Streaming { get => Get(Bits.Streaming); set => Put(Bits.Streaming, value); }
}
