using LinuxEvent.Native;
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
/// </remarks>
public sealed partial class ReactorLoop : Loop
{
    internal const ulong InternalBit = 1UL << 63;
    internal const ulong WakeData = InternalBit | 0x7FFF_FFFF_0000_0000UL;

    private readonly ReactorBackendBase _backend;
    private Watcher?[] _watchers = new Watcher?[64];
    private uint _generation;
    private int _watcherCount;

    internal ReactorLoop(ReactorOptions options) : base(LoopModel.Reactor)
    {
        if (options.MaxEventsPerWait is < 1 or > 65536)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxEventsPerWait, "ReactorOptions.MaxEventsPerWait must be in 1..65536.");
        _backend = options.Backend switch
        {
            ReactorBackend.Epoll => new EpollReactorBackend(this, options.MaxEventsPerWait),
            ReactorBackend.Fake => new FakeReactorBackend(this),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "Unknown ReactorBackend."),
        };
        Fake = (_backend as FakeReactorBackend)?.Controls;
        UpdateNow();
    }

    /// <inheritdoc />
    public override string BackendName => _backend.Name;

    /// <summary>Controls of the Fake backend (inject readiness, advance the virtual clock); null for epoll.</summary>
    public FakeReadiness? Fake { get; }

    /// <summary>Number of active watchers (user registrations only).</summary>
    public int WatcherCount => _watcherCount;

    private protected override long ReadClock() => _backend is FakeReactorBackend f ? f.VirtualNow : base.ReadClock();

    private protected override bool HasImmediateWork => base.HasImmediateWork || _backend.HasQueuedEvents;

    // ------------------------------------------------------------------ watchers

    /// <summary>
    /// Watches <paramref name="fd"/> for readiness. Watching an fd that already has a watcher replaces it: the old
    /// watcher becomes inactive and receives nothing more. The fd is not owned (never closed by the loop).
    /// </summary>
    /// <param name="fd">An open fd that supports polling (socket, pipe, eventfd, tty...). Regular files are refused by epoll (EPERM).</param>
    /// <param name="options">Interest (<see cref="WatchOptions.Read"/>, <see cref="WatchOptions.Write"/>) and mode (edge-triggered, one-shot).</param>
    /// <param name="onReadable">Runs when readable, on EOF/hang-up, and on error when no <paramref name="onError"/> is set.</param>
    /// <param name="onWritable">Runs when writable, and on error when no <paramref name="onError"/> is set.</param>
    /// <param name="onError">If set, receives EPOLLERR alone (read/write callbacks do not run for that report).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The fd is registered through <see cref="Loop.Register"/>.</exception>
    /// <exception cref="LinuxEventException">epoll_ctl refused the fd: EBADF (closed fd), EPERM (regular file), ...
    /// Nothing stays registered: an earlier watcher of the fd remains in place.</exception>
    public Watcher Watch(int fd, WatchOptions options, Action<Watcher>? onReadable, Action<Watcher>? onWritable, Action<Watcher>? onError = null)
        => WatchCore(fd, options, onReadable, onWritable, onError, extraEvents: 0);

    private Watcher WatchCore(int fd, WatchOptions options, Action<Watcher>? onReadable, Action<Watcher>? onWritable, Action<Watcher>? onError,
        uint extraEvents)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "ReactorLoop.Watch: the fd must not be negative.");
        CheckThread(nameof(Watch));
        if (_backend.IsInternalFd(fd))
            throw new ArgumentException($"ReactorLoop.Watch: fd {fd} is owned by the loop itself (signal/pid/wake adaptor).", nameof(fd));
        if (RegisteredState(fd) is not null)
            throw new InvalidOperationException($"ReactorLoop.Watch: fd {fd} is registered through Loop.Register; dispose its LoopFd first.");
        uint gen = NextGeneration();
        var w = new Watcher(this, fd, gen, options, onReadable, onWritable, onError) { ExtraEvents = extraEvents };
        var old = fd < _watchers.Length ? _watchers[fd] : null;
        uint events = EventsOf(w);
        int err;
        if (old is { Registered: true })
        {
            err = _backend.Control(Libc.EPOLL_CTL_MOD, fd, events, DataOf(w));
            // ENOENT: the fd was closed and its number reused; the kernel already dropped the old registration.
            if (err == Errno.ENOENT) err = _backend.Control(Libc.EPOLL_CTL_ADD, fd, events, DataOf(w));
        }
        else
        {
            err = _backend.Control(Libc.EPOLL_CTL_ADD, fd, events, DataOf(w));
            // EEXIST: registered through an earlier watcher that disabled both directions and the kernel kept it.
            if (err == Errno.EEXIST) err = _backend.Control(Libc.EPOLL_CTL_MOD, fd, events, DataOf(w));
        }
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl({(old is { Registered: true } ? "MOD" : "ADD")}, fd={fd})",
            err == Errno.EPERM ? "The fd does not support polling (regular files and directories cannot be watched)." : null);
        if (old is not null) { old.Active = false; _watcherCount--; }
        w.Registered = true;
        w.Armed = true;
        EnsureCapacity(fd);
        _watchers[fd] = w;
        _watcherCount++;
        return w;
    }

    /// <summary>Cancels the watcher of <paramref name="fd"/>. Returns false if the fd had none (idempotent).</summary>
    public bool Unwatch(int fd)
    {
        CheckThread(nameof(Unwatch));
        if (fd < 0 || fd >= _watchers.Length || _watchers[fd] is not { } w) return false;
        if (RegisteredState(fd) is not null)
            throw new InvalidOperationException($"ReactorLoop.Unwatch: fd {fd} is registered through Loop.Register; dispose its LoopFd instead.");
        return CancelWatcher(w);
    }

    private uint NextGeneration()
    {
        // 31 bits in the epoll data (bit 63 marks the loop's own fds); 0x7FFF_FFFF is reserved for the wake fd.
        _generation++;
        if (_generation >= 0x7FFF_FFFF) _generation = 1;
        return _generation;
    }

    private void EnsureCapacity(int fd)
    {
        if (fd < _watchers.Length) return;
        int n = _watchers.Length;
        while (n <= fd) n *= 2;
        Array.Resize(ref _watchers, n);
    }

    private static ulong DataOf(Watcher w) => ((ulong)w.Generation << 32) | (uint)w.Fd;

    private static uint EventsOf(Watcher w)
    {
        uint e = 0;
        if (w.ReadEnabled) e |= Libc.EPOLLIN;
        if (w.WriteEnabled) e |= Libc.EPOLLOUT;
        if (w.EdgeTriggered) e |= Libc.EPOLLET;
        if (w.OneShot) e |= Libc.EPOLLONESHOT;
        return e | w.ExtraEvents;
    }

    internal void UpdateInterest(Watcher w, bool read, bool write, string call)
    {
        CheckThread("Watcher." + call);
        if (!w.Active) throw new InvalidOperationException($"Watcher.{call}: the watcher of fd {w.Fd} is no longer active.");
        bool changed = read != w.ReadEnabled || write != w.WriteEnabled;
        bool rearm = w.OneShot && (read || write);
        if (!changed && !(rearm && call is nameof(Watcher.EnableRead) or nameof(Watcher.EnableWrite) or nameof(Watcher.SetInterest))) return;
        bool oldRead = w.ReadEnabled, oldWrite = w.WriteEnabled;
        w.ReadEnabled = read;
        w.WriteEnabled = write;
        int err;
        string op;
        if (!read && !write)
        {
            // With no interest the registration is removed: epoll would still report EPOLLERR/EPOLLHUP for a zero
            // mask, which on a level-triggered fd would spin a "paused" watcher.
            op = "DEL";
            err = w.Registered ? _backend.Control(Libc.EPOLL_CTL_DEL, w.Fd, 0, 0) : 0;
            if (err is Errno.ENOENT or Errno.EBADF) err = 0;
            if (err == 0) w.Registered = false;
        }
        else if (w.Registered)
        {
            op = "MOD";
            err = _backend.Control(Libc.EPOLL_CTL_MOD, w.Fd, EventsOf(w), DataOf(w));
        }
        else
        {
            op = "ADD";
            err = _backend.Control(Libc.EPOLL_CTL_ADD, w.Fd, EventsOf(w), DataOf(w));
            if (err == 0) w.Registered = true;
        }
        if (err != 0)
        {
            w.ReadEnabled = oldRead;
            w.WriteEnabled = oldWrite;
            throw new LinuxEventException(err, $"epoll_ctl({op}, fd={w.Fd})");
        }
        w.Armed = read || write;
    }

    internal bool CancelWatcher(Watcher w)
    {
        if (!w.Active || IsDisposed) return false;       // disposal deactivated every watcher
        CheckThread(nameof(Watcher) + ".Cancel");
        w.Active = false;
        _watcherCount--;
        if (w.Fd < _watchers.Length && ReferenceEquals(_watchers[w.Fd], w)) _watchers[w.Fd] = null;
        // EBADF/ENOENT: the fd was closed first, which already removed it from the epoll set.
        if (w.Registered) _backend.Control(Libc.EPOLL_CTL_DEL, w.Fd, 0, 0);
        w.Registered = false;
        return true;
    }

    /// <summary>Delivers one readiness report (see the class remarks for the contract).</summary>
    internal void Dispatch(ulong data, uint events)
    {
        int fd = (int)(uint)data;
        uint gen = (uint)(data >> 32);
        if ((uint)fd >= (uint)_watchers.Length) return;
        var w = _watchers[fd];
        if (w is null || w.Generation != gen || !w.Active) return;
        if (w.OneShot) w.Armed = false;             // the kernel disarmed it (EPOLLONESHOT)
        w.LastEvents = events;

        bool err = (events & Libc.EPOLLERR) != 0;
        bool hup = (events & (Libc.EPOLLHUP | Libc.EPOLLRDHUP)) != 0;
        if (err && w.OnError is not null)
        {
            Invoke(w.OnError, w);
            return;
        }
        bool readable = (events & (Libc.EPOLLIN | Libc.EPOLLPRI)) != 0 || err || hup;
        bool writable = (events & Libc.EPOLLOUT) != 0 || err;
        if (readable)
        {
            if (w.OnReadable is not null)
            {
                Invoke(w.OnReadable, w);
                if (!ReferenceEquals(_watchers[fd], w) || !w.Active) return;
            }
            else if (hup) writable = true;
        }
        if (writable && w.OnWritable is not null) Invoke(w.OnWritable, w);
    }

    // ------------------------------------------------------------------ internal fds (adaptors)

    private protected override InternalWatch WatchInternal(int fd, Action<object?> onReadable, object? state)
        => _backend.WatchReadable(fd, onReadable, state);

    // ------------------------------------------------------------------ backend hooks

    private protected override void PollBackend(long timeoutNs) => _backend.Wait(timeoutNs);

    private protected override void WakeBackend() => _backend.Wake();

    private protected override void DisposeBackend()
    {
        FailPendingAsync();
        for (int i = 0; i < _watchers.Length; i++)
        {
            if (_watchers[i] is { } w) { w.Active = false; _watchers[i] = null; }
        }
        _watcherCount = 0;
        _backend.Dispose();
    }
}
