using LinuxEvent.Async;

namespace LinuxEvent.Seam;

/// <summary>
/// The other half of the model seam: how an I/O request reaches the kernel. The reactor's driver tries the syscall
/// and waits for readiness when it would block; the proactor's submits to the ring and waits for the completion. Every
/// rule that is the same on both models is checked above this line, once (<c>Loop.Io.cs</c>, <c>Loop.Register.cs</c>):
/// the loop-thread rule, a negative fd, a cancelled token, one pending operation per direction, an fd already
/// registered or owned by the loop, a closed fd at registration, a disposed registration.
/// </summary>
/// <remarks>
/// <para><b>Rules every driver keeps.</b></para>
/// <list type="number">
/// <item><see cref="Start"/> either completes the request synchronously (a result or an error, nothing pending), or
/// takes a pooled awaitable with <see cref="Loop.ParkIo"/>, which occupies the fd's side, arms it, and returns it.
/// A pending operation settles exactly once, through <see cref="AsyncOp.Complete"/>, <see cref="AsyncOp.Fail"/> or
/// <see cref="AsyncOp.Cancelled"/>, never inline inside <see cref="Start"/>'s caller's continuation (awaitables
/// resume from the loop's deferred phase).</item>
/// <item>Errors are <see cref="LinuxEventException"/>s named after the syscall (<see cref="IoNames"/>), the same text
/// on both models.</item>
/// <item><see cref="Cancel"/> is called on the loop thread for a pending operation whose token was cancelled. The
/// operation settles as cancelled, or with its real result if the kernel completed it first (no data is lost).</item>
/// <item><see cref="Register"/> and <see cref="Unregister"/> bracket a <see cref="LoopFd"/>: after Unregister the
/// driver holds nothing that names the fd, pending operations have been failed (or their kernel requests cancelled
/// and flushed), and the fd may be closed. That includes file operations on the fd (<see cref="StartFile"/>): those
/// not started fail with ObjectDisposedException; those running deliver their result (a reactor waits, bounded, for
/// its workers to leave the syscall; an io_uring request holds its own reference to the file).</item>
/// <item><see cref="Dispose"/> settles everything the driver owns when the loop is disposed: pending operations fail
/// with <see cref="ObjectDisposedException"/> (a proactor first cancels its kernel requests and waits for their
/// completions, so a request the kernel finished still delivers its result).</item>
/// </list>
/// </remarks>
internal abstract class IoDriver(Loop loop)
{
    /// <summary>The loop this driver serves.</summary>
    protected Loop Loop { get; } = loop;

    /// <summary>The per-fd state for <paramref name="fd"/> (called once per fd number).</summary>
    public virtual IoFd CreateFdState(int fd) => new(fd);

    /// <summary>Starts an async operation on <paramref name="state"/>'s fd; the rules above the seam have passed.</summary>
    public abstract IoStart Start(IoFd state, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        System.Net.EndPoint? remote, CancellationToken token);

    /// <summary>
    /// Starts a sendmsg (<see cref="AsyncKind.SendMessage"/>) or recvmsg (<see cref="AsyncKind.ReceiveMessage"/>) on
    /// <paramref name="state"/>'s fd; the rules above the seam have passed. Always parks a pooled awaitable with
    /// <see cref="Loop.ParkMessageIo"/> (which prepares its msghdr) and settles it through
    /// <see cref="Loop.FinishMessageIo"/>, which interprets what the kernel wrote the same way on both models.
    /// </summary>
    public abstract IoStart StartMessage(IoFd state, AsyncKind kind, in Datagrams.MessageRequest request, CancellationToken token);

    /// <summary>Cancels a pending operation (its token was cancelled, or its deadline expired: then
    /// <see cref="AsyncOp.TimedOut"/> is set and the operation settles as a timeout).</summary>
    public abstract void Cancel(AsyncOp op);

    /// <summary>
    /// True when the driver hands an operation's deadline (<see cref="AsyncOp.TimeoutNs"/>, set before it is started)
    /// to the kernel with the operation itself (io_uring: a linked timeout), and settles it as
    /// <see cref="AsyncOp.TimedOut"/> when that fires. Otherwise the loop enforces the deadline with a loop timer that
    /// calls <see cref="Cancel"/> (Loop.Deadlines.cs).
    /// </summary>
    public virtual bool LinksDeadlines => false;

    /// <summary>
    /// Starts a file operation (<c>Loop.Files.cs</c>): <paramref name="op"/> is rented and its
    /// <see cref="AsyncOp.File"/> request filled and checked above the seam. The driver settles it at once (a result or
    /// an error) or hands it to the kernel (proactor: an SQE) or to its worker pool (reactor); the loop arms the token
    /// when this returns. A file operation occupies no side of its fd (any number may be pending on one fd).
    /// <see cref="Cancel"/> on it: a request the kernel or a worker has not started settles cancelled; one already
    /// running settles with its real result (a file read or write cannot be interrupted). Never throws: a failure to
    /// start settles <paramref name="op"/> with the error.
    /// </summary>
    public abstract void StartFile(AsyncOp op);

    /// <summary>Makes <paramref name="registration"/> the fd's registration in the kernel's terms; throws with nothing
    /// changed if the driver refuses it.</summary>
    public abstract void Register(IoFd state, LoopFd registration);

    /// <summary>Ends a registration: settles its pending operations and stops naming the fd. May throw before anything
    /// changed (e.g. a proactor used from a thread its ring refuses).</summary>
    public abstract void Unregister(IoFd state, LoopFd registration);

    /// <summary>The model's stream channel over a connected fd (LoopStream's seam).</summary>
    public abstract StreamChannel CreateStreamChannel(int fd, IStreamChannelHandler handler, bool isSocket, int receiveBufferSize);

    /// <summary>The model's accept channel over a listening socket (Listener's seam); with
    /// <paramref name="exclusiveWakeup"/>, one incoming connection wakes one of the loops accepting on the socket.</summary>
    public abstract AcceptChannel CreateAcceptChannel(int fd, IAcceptChannelHandler handler, int maxPerWake, bool exclusiveWakeup);

    /// <summary>Async operations pending (for the meter; may be read from another thread, so approximate).</summary>
    public abstract int LiveCount { get; }

    /// <summary>Hands queued requests to the kernel now (proactor); nothing to do on the reactor.</summary>
    public virtual void FlushSubmissions(string call) { }

    /// <summary>Called at the end of each loop iteration (after its deferred phase) and before each wait: the reactor
    /// sends the stream writes made on the loop thread since the last call, coalesced
    /// (<see cref="ReactorOptions.CoalesceWrites"/>); nothing to do on the proactor, whose sends are submitted together
    /// by the next wait anyway.</summary>
    public virtual void FlushWrites() { }

    /// <summary>Loop disposal, step 1: settles everything the driver owns.</summary>
    public abstract void Dispose();

    /// <summary>Exceptions thrown by operation callbacks during <see cref="Dispose"/> with no handler to take them.</summary>
    public virtual Exception? TakeDisposeErrors() => null;
}
