using System.Net;
using LinuxEvent.Native;

namespace LinuxEvent.Seam;

/// <summary>
/// The syscalls the reactor's I/O driver performs itself once an fd is ready (the proactor's are kernel operations).
/// Each returns the result, or -errno; EINTR is retried inside. The default is the kernel; a test or a simulated
/// network replaces it on one loop (e.g. to make accept fail with EMFILE, or to serve fds that exist only in memory:
/// a fake reactor's <see cref="FakeReadiness.Kernel"/>).
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

    /// <summary>connect(2) on a non-blocking socket: 0, -EINPROGRESS, or -errno.</summary>
    public virtual int Connect(int fd, EndPoint remote) => Posix.TryConnect(fd, remote);

    /// <summary>SO_ERROR (0 or a positive errno); throws <see cref="LinuxEventException"/> if getsockopt fails.</summary>
    public virtual int GetSocketError(int fd) => Posix.GetSocketError(fd);

    /// <summary>poll(2) with a zero timeout: the revents, or -errno (-EBADF for a closed fd).</summary>
    public virtual int PollNow(int fd, short events) => Posix.TryPollNow(fd, events);

    /// <summary>Whether the fd is a stream socket, and whether it is TCP (the short-transfer rules of a registration).</summary>
    public virtual (bool Stream, bool Tcp) StreamSocketKind(int fd) => Posix.StreamSocketKind(fd);
}
