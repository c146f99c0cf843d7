using LinuxEvent.Native;

namespace LinuxEvent;

public abstract partial class Loop
{
    /// <summary>
    /// Registers <paramref name="fd"/> with this loop for async I/O until the returned <see cref="LoopFd"/> is
    /// disposed (see its remarks for what the registration saves per operation and the rules it comes with).
    /// </summary>
    /// <param name="fd">An open fd: a non-blocking fd that supports polling (socket, pipe, eventfd...), or a regular file.</param>
    /// <param name="ownsFd">True to hand the fd over: <see cref="LoopFd.Dispose"/> then closes it. Ownership passes
    /// only if this call succeeds; on failure the fd stays open and the caller's.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    /// <exception cref="ArgumentException">The fd belongs to the loop itself (its wake eventfd, epoll or ring fd,
    /// signalfd or a pidfd).</exception>
    /// <exception cref="InvalidOperationException">The fd is already registered, or has an fd-number async operation
    /// pending. Reactor: the fd has a <see cref="Watcher"/>. Not on the loop thread.</exception>
    /// <exception cref="LinuxEventException">The kernel refused the fd (EBADF for a closed fd). A regular file is accepted on
    /// both models: the reactor keeps it out of epoll (which refuses it) and runs its file operations on worker threads.</exception>
    public LoopFd Register(int fd, bool ownsFd = false)
    {
        const string call = "Loop.Register";
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        CheckThread(call);
        if (Backend.OwnsFd(fd))
            throw new ArgumentException($"{call}: fd {fd} is owned by the loop itself (its wake, signal or process adaptor, or the backend's kernel object).", nameof(fd));
        // A closed fd is refused with EBADF before anything changes (epoll_ctl would say so too; io_uring and the fakes
        // would not until the first operation).
        if (!Posix.IsOpen(fd)) throw new LinuxEventException(Errno.EBADF, $"{call}(fd={fd})");
        var state = IoFdOf(fd);
        if (state.Registration is not null)
            throw new InvalidOperationException($"{call}: fd {fd} is already registered; dispose its LoopFd first.");
        if (state.Reader is not null || state.Writer is not null)
            throw new InvalidOperationException($"{call}: fd {fd} has a pending async operation; await it first.");
        var registration = new LoopFd(this, fd, ownsFd);
        Driver.Register(state, registration);       // throws with nothing changed if the driver refuses the fd
        state.Registration = registration;
        registration.Attach();                      // not yet disposed (checked above, same thread): always accepted
        return registration;
    }

    /// <summary>The registration of <paramref name="fd"/>, if it has one.</summary>
    internal LoopFd? RegistrationOf(int fd) => _ioFds[fd]?.Registration;

    /// <summary>
    /// <see cref="LoopFd.Dispose"/> while the loop is alive: the driver settles the pending operations and stops naming
    /// the fd; if it refuses (a thread the proactor's ring does not accept), nothing has changed.
    /// </summary>
    internal void Unregister(LoopFd registration)
    {
        CheckLoopThread("LoopFd.Dispose");          // valid while disposal is requested, before the components are released
        if (_ioFds[registration.Fd] is not { } state || !ReferenceEquals(state.Registration, registration)) return;
        Driver.Unregister(state, registration);
        state.Registration = null;
    }
}
