using System.Net;
using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>
/// A simulated kernel for a fake reactor loop (<see cref="FakeReadiness.Kernel"/>): it serves the syscalls the reactor
/// performs itself on fds that are ready (recv, send, read, write, accept4, connect, the SO_ERROR and poll checks of a
/// connect), and it is told how the loop's interest in each fd changes (the loop's epoll_ctl calls). Together with
/// <see cref="FakeReadiness.Inject"/> that is everything a readiness loop asks of the kernel, so a simulated network
/// can stand behind it: user code, <c>LoopStream</c>s and listeners run unchanged on sockets that exist only in memory.
/// </summary>
/// <remarks>
/// <para>Every member defaults to the real kernel. An override serves the fds it knows and passes the others on to the
/// base implementation, so real fds (a pipe, an eventfd) keep working on the same loop.</para>
/// <para>Results follow the syscalls: bytes, a new fd, or 0 on success; a negative errno on failure (-EAGAIN when it
/// would block). EINTR must never be returned: the reactor's syscalls retry it inside.</para>
/// <para>Fd numbers: the loop's own checks (<c>Loop.Register</c> refuses a closed fd) and user code (closing the fd,
/// shutdown, socket options) still reach the real kernel with the fd number, so a simulated socket should be backed by
/// a real, cheap fd (a socket pair, a dup of /dev/null): its number then never collides with a real fd, and closing it
/// works.</para>
/// <para>Called on the loop's thread, from inside the loop's iteration: an override must not run the loop, and it must
/// not call back into user code.</para>
/// </remarks>
public class FakeReactorKernel
{
    /// <summary>read(2).</summary>
    protected internal virtual int Read(int fd, Span<byte> buffer) => Posix.TryRead(fd, buffer);

    /// <summary>write(2).</summary>
    protected internal virtual int Write(int fd, ReadOnlySpan<byte> buffer) => Posix.TryWrite(fd, buffer);

    /// <summary>recv(2): bytes received, 0 at end of stream, or -errno (-EAGAIN, -ECONNRESET...).</summary>
    protected internal virtual int Receive(int fd, Span<byte> buffer) => Posix.TryReceive(fd, buffer);

    /// <summary>send(2) with MSG_NOSIGNAL: bytes taken (possibly fewer than offered), or -errno (-EAGAIN, -EPIPE...).</summary>
    protected internal virtual int Send(int fd, ReadOnlySpan<byte> buffer) => Posix.TrySend(fd, buffer);

    /// <summary>accept4(2) (non-blocking, close-on-exec): the new fd, or -errno (-EAGAIN, -EMFILE...).</summary>
    protected internal virtual int Accept(int fd) => Posix.TryAccept(fd);

    /// <summary>connect(2) on a non-blocking socket: 0 (connected), -EINPROGRESS (the loop then waits for the socket
    /// to be writable and reads <see cref="GetSocketError"/>), or -errno.</summary>
    protected internal virtual int Connect(int fd, EndPoint remote) => Posix.TryConnect(fd, remote);

    /// <summary>getsockopt(SO_ERROR): 0, or the pending error (e.g. ECONNREFUSED after a failed connect). EINPROGRESS
    /// or EALREADY means the connect is still in progress.</summary>
    protected internal virtual int GetSocketError(int fd) => Posix.GetSocketError(fd);

    /// <summary>poll(2) with a zero timeout: the fd's readiness now. Returns 0, or -errno (-EBADF for an fd that is not
    /// open).</summary>
    protected internal virtual int Poll(int fd, out Readiness readiness)
    {
        readiness = Readiness.None;
        int r = Posix.TryPollNow(fd, (short)(Libc.POLLIN | Libc.POLLOUT | Libc.POLLRDHUP));
        if (r < 0) return r;
        if ((r & Libc.POLLIN) != 0) readiness |= Readiness.Readable;
        if ((r & Libc.POLLOUT) != 0) readiness |= Readiness.Writable;
        if ((r & Libc.POLLERR) != 0) readiness |= Readiness.Error;
        if ((r & Libc.POLLHUP) != 0) readiness |= Readiness.HangUp;
        if ((r & Libc.POLLRDHUP) != 0) readiness |= Readiness.ReadHangUp;
        return 0;
    }

    /// <summary>Whether the fd is a stream socket, and whether it is TCP. A registration (<c>Loop.Register</c>) uses it
    /// to skip the EAGAIN probe after a short transfer: a short send on a stream socket means its buffer is full (an
    /// EPOLLOUT edge follows when space frees up); a short TCP receive means its queue is empty (new data raises an
    /// edge; a FIN raises EPOLLRDHUP). A simulated socket that claims TCP must raise those edges.</summary>
    protected internal virtual (bool Stream, bool Tcp) GetStreamKind(int fd) => Posix.StreamSocketKind(fd);

    /// <summary>
    /// The loop registered, changed or removed its interest in <paramref name="fd"/> (epoll_ctl ADD/MOD/DEL):
    /// <paramref name="interest"/> is the new interest (<see cref="WatchOptions.None"/> once removed). Like epoll, a
    /// kernel reports a ready fd right after ADD or MOD, also an edge-triggered or one-shot one (inject it), and a
    /// one-shot registration reports once until the next MOD. The default does nothing.
    /// </summary>
    protected internal virtual void InterestChanged(int fd, WatchOptions interest) { }
}
