namespace LinuxEvent.Seam;

/// <summary>
/// The syscalls the reactor's I/O driver performs itself once an fd is ready (the proactor's are kernel operations).
/// Each returns the result, or -errno; EINTR is retried inside. The default is the kernel; a test or a simulated
/// network replaces it on one loop (e.g. to make accept fail with EMFILE, or to serve fds that exist only in memory).
/// </summary>
internal unsafe class Syscalls
{
    /// <summary>The kernel.</summary>
    public static readonly Syscalls Kernel = new();

    public virtual int Read(int fd, Span<byte> buffer) => Posix.TryRead(fd, buffer);
    public virtual int Write(int fd, ReadOnlySpan<byte> buffer) => Posix.TryWrite(fd, buffer);
    public virtual int Receive(int fd, Span<byte> buffer) => Posix.TryReceive(fd, buffer);
    public virtual int Send(int fd, ReadOnlySpan<byte> buffer) => Posix.TrySend(fd, buffer);
    public virtual int Accept(int fd) => Posix.TryAccept(fd);
    public virtual int SendMessage(int fd, Native.MsgHdr* message, int flags) => Posix.TrySendMessage(fd, message, flags);
    public virtual int ReceiveMessage(int fd, Native.MsgHdr* message, int flags) => Posix.TryReceiveMessage(fd, message, flags);
}
