using LinuxEvent.Async;
using LinuxEvent.Reactor;

namespace LinuxEvent;

/// <summary>
/// A readiness (epoll) loop: the kernel reports that an fd is ready and the callback performs the I/O.
/// Create with <see cref="Loop.CreateReactor(ReactorOptions?)"/>.
/// </summary>
/// <remarks>
/// <para><b>Dispatch contract</b> for one readiness report of a watcher:</para>
/// <list type="number">
/// <item>EPOLLERR with an error callback set: only the error callback runs.</item>
/// <item>Otherwise EPOLLERR counts as readable and writable; EPOLLHUP forces a read so the callback sees EOF
/// (it is given to the write callback when there is no read callback).</item>
/// <item>The read callback runs before the write callback; the write callback is skipped if the read callback
/// cancelled the watcher or replaced it by watching the fd again.</item>
/// <item>A watcher cancelled (or whose fd was closed, reused and watched again) by an earlier callback of the same
/// batch receives nothing more from that batch: every registration carries a generation in the epoll data.</item>
/// </list>
/// <para><b>Closing a watched fd.</b> epoll tracks the open file, not the fd number: closing a watched fd while a
/// duplicate of it (dup, fork, SCM_RIGHTS) stays open leaves the registration alive, and the loop can no longer remove
/// it by number. Cancel the watcher before closing the fd.</para>
/// </remarks>
public sealed class ReactorLoop : Loop
{
    private readonly ReactorIoDriver _driver;

    internal ReactorLoop(ReactorOptions options) : base(LoopModel.Reactor)
    {
        if (options.MaxEventsPerWait is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxEventsPerWait, "ReactorOptions.MaxEventsPerWait must be in 1..65536.");
        _driver = new ReactorIoDriver(this);
        _driver.ConfigureFiles(options);
        _driver.CoalesceWrites = options.CoalesceWrites;
        ReactorBackendBase backend = options.Backend switch
        {
            ReactorBackend.Epoll => new EpollReactorBackend(this, _driver, options.MaxEventsPerWait),
            ReactorBackend.Fake => new FakeReactorBackend(this, _driver, options.FakeClock),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "Unknown ReactorBackend."),
        };
        _driver.Backend = backend;
        Fake = (backend as FakeReactorBackend)?.Controls;
        Attach(backend, _driver);
    }

    /// <summary>Controls of the Fake backend (inject readiness, advance the virtual clock); null for epoll.</summary>
    public FakeReadiness? Fake { get; }

    /// <summary>Number of active watchers (user registrations, and the async API's own).</summary>
    public int WatcherCount => _driver.WatcherCount;

    /// <summary>The I/O driver (watchers, the loop-wide receive buffer).</summary>
    internal ReactorIoDriver ReactorDriver => _driver;

    /// <summary>
    /// Watches <paramref name="fd"/> for readiness. Watching an fd that already has a watcher replaces it: the old
    /// watcher becomes inactive and receives nothing more. The fd is not owned (never closed by the loop).
    /// </summary>
    /// <param name="fd">An open fd that supports polling (socket, pipe, eventfd, tty...). Regular files are refused by epoll (EPERM).</param>
    /// <param name="options">Interest (<see cref="WatchOptions.Read"/>, <see cref="WatchOptions.Write"/>) and mode (edge-triggered, one-shot, exclusive).</param>
    /// <param name="onReadable">Runs when readable, on EOF/hang-up, and on error when no <paramref name="onError"/> is set.</param>
    /// <param name="onWritable">Runs when writable, and on error when no <paramref name="onError"/> is set.</param>
    /// <param name="onError">If set, receives EPOLLERR alone (read/write callbacks do not run for that report).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    /// <exception cref="ArgumentException">The fd belongs to the loop itself (its epoll fd, wake eventfd, signalfd or a pidfd).</exception>
    /// <exception cref="InvalidOperationException">The fd is registered through <see cref="Loop.Register"/>.</exception>
    /// <exception cref="LinuxEventException">epoll_ctl refused the fd: EBADF (closed fd), EPERM (regular file), ...
    /// Nothing stays registered: an earlier watcher of the fd remains in place.</exception>
    public Watcher Watch(int fd, WatchOptions options, Action<Watcher>? onReadable, Action<Watcher>? onWritable, Action<Watcher>? onError = null)
    {
        if (fd >= 0 && RegistrationOf(fd) is not null)
            throw new InvalidOperationException($"ReactorLoop.Watch: fd {fd} is registered through Loop.Register; dispose its LoopFd first.");
        return _driver.Watch(fd, options, onReadable, onWritable, onError, extraEvents: 0, "ReactorLoop.Watch");
    }

    /// <summary>Cancels the watcher of <paramref name="fd"/>. Returns false if the fd had none (idempotent).</summary>
    /// <exception cref="InvalidOperationException">The fd is registered through <see cref="Loop.Register"/>.</exception>
    public bool Unwatch(int fd)
    {
        CheckThread(nameof(Unwatch));
        if (fd < 0 || _driver.WatcherOf(fd) is not { } w) return false;
        if (RegistrationOf(fd) is not null)
            throw new InvalidOperationException($"ReactorLoop.Unwatch: fd {fd} is registered through Loop.Register; dispose its LoopFd instead.");
        return _driver.CancelWatcher(w);
    }

    /// <summary>Completes when <paramref name="fd"/> is readable (or at EOF/error). Occupies the fd's read side.</summary>
    public ValueTask WaitReadableAsync(int fd, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.WaitReadable, fd, default, default, null, cancellationToken, "ReactorLoop.WaitReadableAsync", null).AsVoidValueTask();

    /// <summary>Completes when <paramref name="fd"/> is writable (or on error). Occupies the fd's write side.</summary>
    public ValueTask WaitWritableAsync(int fd, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.WaitWritable, fd, default, default, null, cancellationToken, "ReactorLoop.WaitWritableAsync", null).AsVoidValueTask();
}
