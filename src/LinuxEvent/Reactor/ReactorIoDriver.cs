using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's half of the I/O seam: readiness registrations in an epoll-shaped backend (<see cref="Watcher"/>s, the
/// public callback API of <see cref="ReactorLoop"/>), and on top of them the async API's "try the syscall, wait for
/// readiness on EAGAIN" (<c>ReactorIoDriver.Async.cs</c>). One table of watchers per fd number; every registration
/// carries <c>generation &lt;&lt; 32 | fd</c> in its epoll data, so a report for a watcher that an earlier callback of
/// the same batch cancelled, replaced or closed (and whose number was reused) is dropped.
/// </summary>
internal sealed partial class ReactorIoDriver(ReactorLoop loop) : IoDriver(loop)
{
    /// <summary>Bit 63 of the epoll data marks the loop's own registrations (wake fd, internal watches).</summary>
    internal const ulong InternalBit = 1UL << 63;
    internal const ulong WakeData = InternalBit | 0x7FFF_FFFF_0000_0000UL;

    private readonly FdTable<Watcher> _watchers = new();
    private uint _generation;
    private int _watcherCount;

    internal ReactorLoop Reactor { get; } = loop;

    /// <summary>The backend, set once by the loop's constructor.</summary>
    internal ReactorBackendBase Backend { get; set; } = null!;

    /// <summary>The syscalls performed once an fd is ready (the kernel, unless a test or a simulation replaces them).</summary>
    internal Syscalls Sys { get; set; } = Syscalls.Kernel;

    /// <summary>The loop-wide buffer stream channels read into (one per loop, allocated at the first read).</summary>
    internal LoopReceiveBuffer ReceiveBuffer { get; } = new();

    public override StreamChannel CreateStreamChannel(int fd, IStreamChannelHandler handler, bool isSocket, int receiveBufferSize)
        => new ReactorStreamChannel(Reactor, fd, isSocket, receiveBufferSize, handler);

    public override AcceptChannel CreateAcceptChannel(int fd, IAcceptChannelHandler handler, int maxPerWake, bool exclusiveWakeup)
        => new ReactorAcceptChannel(this, fd, maxPerWake, handler) { Exclusive = exclusiveWakeup };

    /// <summary>Async operations parked on readiness (a scan for the meter; approximate when read from another thread).</summary>
    public override int LiveCount
    {
        get
        {
            int n = 0;
            Loop.IoFds.ForEach(s => n += (s.Reader is not null ? 1 : 0) + (s.Writer is not null ? 1 : 0));
            return n;
        }
    }

    /// <summary>Number of active watchers.</summary>
    public int WatcherCount => _watcherCount;

    internal Watcher? WatcherOf(int fd) => _watchers[fd];

    /// <summary>Watches <paramref name="fd"/> (see <see cref="ReactorLoop.Watch"/> for the contract).</summary>
    internal Watcher Watch(int fd, WatchOptions options, Action<Watcher>? onReadable, Action<Watcher>? onWritable, Action<Watcher>? onError,
        uint extraEvents, string call)
    {
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        Loop.CheckThread(call);
        if (Backend.OwnsFd(fd))
            throw new ArgumentException($"{call}: fd {fd} is owned by the loop itself (its wake, signal or process adaptor, or the backend's kernel object).", nameof(fd));
        if ((options & (WatchOptions.Exclusive | WatchOptions.OneShot)) == (WatchOptions.Exclusive | WatchOptions.OneShot))
            throw new ArgumentException($"{call}: WatchOptions.Exclusive cannot be combined with OneShot (EPOLLEXCLUSIVE is refused with EPOLLONESHOT: re-arming would be an EPOLL_CTL_MOD).", nameof(options));
        uint gen = NextGeneration();
        var w = new Watcher(this, fd, gen, options, onReadable, onWritable, onError) { ExtraEvents = extraEvents };
        var old = _watchers[fd];
        uint events = EventsOf(w);
        int err;
        if (old is { Registered: true } && (w.Exclusive || old.Exclusive))
        {
            // EPOLLEXCLUSIVE is valid only with EPOLL_CTL_ADD (and an exclusive registration cannot be modified): replace
            // the registration instead of modifying it.
            err = Backend.Control(Libc.EPOLL_CTL_DEL, fd, 0, 0);
            if (err is 0 or Errno.ENOENT) old.Registered = false;
            err = Backend.Control(Libc.EPOLL_CTL_ADD, fd, events, DataOf(w));
        }
        else if (old is { Registered: true })
        {
            err = Backend.Control(Libc.EPOLL_CTL_MOD, fd, events, DataOf(w));
            // ENOENT: the fd was closed and its number reused; the kernel already dropped the old registration.
            if (err == Errno.ENOENT) err = Backend.Control(Libc.EPOLL_CTL_ADD, fd, events, DataOf(w));
        }
        else
        {
            err = Backend.Control(Libc.EPOLL_CTL_ADD, fd, events, DataOf(w));
            // EEXIST: registered through an earlier watcher that disabled both directions and the kernel kept it.
            if (err == Errno.EEXIST) err = Backend.Control(Libc.EPOLL_CTL_MOD, fd, events, DataOf(w));
        }
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl({(old is { Registered: true } ? "MOD" : "ADD")}, fd={fd})",
            err == Errno.EPERM ? "The fd does not support polling (regular files and directories cannot be watched)." : null);
        if (old is not null) { old.Active = false; _watcherCount--; }
        w.Registered = true;
        w.Armed = true;
        _watchers.Set(fd, w);
        _watcherCount++;
        return w;
    }

    private uint NextGeneration()
    {
        // 31 bits in the epoll data (bit 63 marks the loop's own fds); 0x7FFF_FFFF is reserved for the wake fd.
        _generation++;
        if (_generation >= 0x7FFF_FFFF) _generation = 1;
        return _generation;
    }

    private static ulong DataOf(Watcher w) => ((ulong)w.Generation << 32) | (uint)w.Fd;

    private static uint EventsOf(Watcher w)
    {
        uint e = 0;
        if (w.ReadEnabled) e |= Libc.EPOLLIN;
        if (w.WriteEnabled) e |= Libc.EPOLLOUT;
        if (w.EdgeTriggered) e |= Libc.EPOLLET;
        if (w.OneShot) e |= Libc.EPOLLONESHOT;
        if (w.Exclusive) e |= Libc.EPOLLEXCLUSIVE;
        return e | w.ExtraEvents;
    }

    internal void UpdateInterest(Watcher w, bool read, bool write, string call)
    {
        Loop.CheckThread("Watcher." + call);
        if (!w.Active) throw new InvalidOperationException($"Watcher.{call}: the watcher of fd {w.Fd} is no longer active.");
        bool changed = read != w.ReadEnabled || write != w.WriteEnabled;
        bool rearm = w.OneShot && (read || write);
        if (!changed && !(rearm && call is nameof(Watcher.EnableRead) or nameof(Watcher.EnableWrite) or nameof(Watcher.SetInterest))) return;
        if (w.Exclusive && w.Registered && (read || write))
            throw new InvalidOperationException($"Watcher.{call}: the watcher of fd {w.Fd} is exclusive (WatchOptions.Exclusive): " +
                "its interest cannot be changed while it keeps some (EPOLLEXCLUSIVE registrations cannot be modified: EPOLL_CTL_MOD fails with EINVAL). " +
                "Disable every direction first (the registration is removed), or cancel it and watch again.");
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
            err = w.Registered ? Backend.Control(Libc.EPOLL_CTL_DEL, w.Fd, 0, 0) : 0;
            if (err is Errno.ENOENT or Errno.EBADF) err = 0;
            if (err == 0) w.Registered = false;
        }
        else if (w.Registered)
        {
            op = "MOD";
            err = Backend.Control(Libc.EPOLL_CTL_MOD, w.Fd, EventsOf(w), DataOf(w));
        }
        else
        {
            op = "ADD";
            err = Backend.Control(Libc.EPOLL_CTL_ADD, w.Fd, EventsOf(w), DataOf(w));
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

    /// <summary>Re-arms a one-shot registration with its current interest (MOD, or ADD if the number was reused).</summary>
    internal int Rearm(Watcher w, uint events)
    {
        ulong data = DataOf(w);
        int err = Backend.Control(Libc.EPOLL_CTL_MOD, w.Fd, events, data);
        if (err == Errno.ENOENT) err = Backend.Control(Libc.EPOLL_CTL_ADD, w.Fd, events, data);   // fd number reused by a new file
        if (err == 0) { w.Registered = true; w.Armed = true; }
        return err;
    }

    internal bool CancelWatcher(Watcher w)
    {
        if (!w.Active || Loop.IsDisposed) return false;       // disposal deactivated every watcher
        Loop.CheckThread(nameof(Watcher) + ".Cancel");
        w.Active = false;
        _watcherCount--;
        if (ReferenceEquals(_watchers[w.Fd], w)) _watchers.Set(w.Fd, null);
        // EBADF/ENOENT: the fd was closed first, which already removed it from the epoll set.
        if (w.Registered) Backend.Control(Libc.EPOLL_CTL_DEL, w.Fd, 0, 0);
        w.Registered = false;
        return true;
    }

    /// <summary>Delivers one readiness report (see <see cref="ReactorLoop"/>'s remarks for the contract).</summary>
    internal void Dispatch(ulong data, uint events)
    {
        int fd = (int)(uint)data;
        uint gen = (uint)(data >> 32);
        var w = _watchers[fd];
        if (w is null || w.Generation != gen || !w.Active)
        {
            NoteStale(data);
            return;
        }
        if (w.OneShot) w.Armed = false;             // the kernel disarmed it (EPOLLONESHOT)
        w.LastEvents = events;

        bool err = (events & Libc.EPOLLERR) != 0;
        bool hup = (events & (Libc.EPOLLHUP | Libc.EPOLLRDHUP)) != 0;
        if ((err || hup) && !Posix.IsOpen(fd))
        {
            DropClosedWatcher(w);
            return;
        }
        if (err && w.OnError is not null)
        {
            Loop.Invoke(w.OnError, w);
            return;
        }
        bool readable = (events & (Libc.EPOLLIN | Libc.EPOLLPRI)) != 0 || err || hup;
        bool writable = (events & Libc.EPOLLOUT) != 0 || err;
        if (readable)
        {
            if (w.OnReadable is not null)
            {
                Loop.Invoke(w.OnReadable, w);
                if (!ReferenceEquals(_watchers[fd], w) || !w.Active) return;
            }
            else if (hup) writable = true;
        }
        if (writable && w.OnWritable is not null) Loop.Invoke(w.OnWritable, w);
    }

    // ------------------------------------------------------------------ zombie registrations
    //
    // epoll keys an item by (open file, fd number) and removes it when the file's last reference goes, not when the
    // number is closed (epoll(7), "Q6"). Closing a watched fd while a duplicate (dup, fork, SCM_RIGHTS) keeps the file
    // open leaves an item the loop can no longer remove by number: EPOLL_CTL_DEL fails with EBADF, or finds another file.
    // A level-triggered item that stays ready (a hang-up) then comes back from every epoll_wait: a busy loop. The driver
    // detects it (the same stale report in three iterations, or a hang-up on a watcher whose fd is no longer open) and
    // has the backend rebuild its epoll set from the live registrations, which drops the zombie with the old set.

    private ulong _staleData;
    private int _staleHits;
    private long _staleIteration = -1;

    /// <summary>Set when a zombie item was detected; the backend rebuilds its set after the current batch.</summary>
    internal bool RebuildRequested { get; set; }

    private void NoteStale(ulong data)
    {
        long iteration = Loop.Metrics.Iterations;
        if (data != _staleData) { _staleData = data; _staleHits = 0; _staleIteration = -1; }
        if (iteration == _staleIteration) return;      // one report per iteration counts
        _staleIteration = iteration;
        // A report for a watcher cancelled or replaced earlier in the same batch comes once; the same one three iterations
        // in a row is an item nothing will remove.
        if (++_staleHits >= 3)
        {
            _staleHits = 0;
            RebuildRequested = true;
        }
    }

    /// <summary>A hang-up or error on a watcher whose fd number is no longer open: it was closed while watched, and a
    /// duplicate keeps the file (and so the item) alive. The watcher ends, the error is reported, the set is rebuilt.</summary>
    private void DropClosedWatcher(Watcher w)
    {
        w.Active = false;
        w.Registered = false;
        _watcherCount--;
        if (ReferenceEquals(_watchers[w.Fd], w)) _watchers.Set(w.Fd, null);
        RebuildRequested = true;
        Loop.ReportException(new LinuxEventException(Errno.EBADF, $"epoll(fd={w.Fd})",
            "The fd was closed while still watched, and a duplicate of it keeps its epoll registration alive (a hang-up was " +
            "reported for it every iteration). The watcher was cancelled and the loop rebuilt its epoll set; cancel a watcher " +
            "(or dispose its LoopFd) before closing its fd."));
    }

    /// <summary>The registrations a rebuilt epoll set must hold: every watcher the kernel still has armed.</summary>
    internal void ForEachRegistration(Action<int, uint, ulong> add)
    {
        _watchers.ForEach(w =>
        {
            if (w.Active && w.Registered && (w.Armed || !w.OneShot)) add(w.Fd, EventsOf(w), DataOf(w));
        });
    }

    /// <summary>Loop disposal: pending readiness waits fail with <see cref="ObjectDisposedException"/> and every watcher
    /// becomes inactive (the backend then closes the epoll set, which drops every registration at once).</summary>
    public override void Dispose()
    {
        FailPendingAsync();
        DisposeFiles();
        _watchers.ForEach(static w => w.Active = false);
        _watchers.Clear();
        _watcherCount = 0;
    }
}
