using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>
/// Deterministic readiness: user fds are never given to the kernel; a test injects readiness through
/// <see cref="FakeReadiness"/>, and the clock is virtual. The loop's own fds (wake eventfd, signalfd, pidfd) live in
/// a real <see cref="FakeSideChannel"/>, polled without blocking except when nothing else could ever happen (no
/// injected report, no timer): then it blocks, so a Post from another thread still wakes the loop.
/// </summary>
internal sealed class FakeReactorBackend : ReactorBackendBase
{
    private readonly ReactorLoop _loop;
    private readonly FakeSideChannel _side;
    private readonly Dictionary<int, (uint Events, ulong Data)> _registered = new();
    private readonly Queue<(int Fd, uint Events)> _injected = new();
    private readonly HashSet<int> _disarmed = new();

    public FakeReactorBackend(ReactorLoop loop, ReactorIoDriver driver, FakeClock? clock) : base(driver)
    {
        _loop = loop;
        _side = new FakeSideChannel(loop, clock);
        Controls = new FakeReadiness(this, loop);
    }

    public FakeReadiness Controls { get; }

    /// <summary>The simulated kernel (null: the real one). Serves the driver's syscalls and hears of interest changes.</summary>
    public FakeReactorKernel? Kernel
    {
        get => _kernel;
        set
        {
            _kernel = value;
            Driver.Sys = value is null ? Syscalls.Kernel : new FakeKernelSyscalls(value);
        }
    }

    private FakeReactorKernel? _kernel;

    public override string Name => "fake";
    public override bool HasQueuedWork => _injected.Count > 0;
    public override bool IsVirtualClock => true;
    public override long ReadClock() => _side.Now;

    /// <summary>Moves the virtual clock (the controls' Advance).</summary>
    public void Advance(long ns) => _side.Advance(ns);

    public override int Control(int op, int fd, uint events, ulong data)
    {
        int err = ControlCore(op, fd, events, data);
        if (err == 0 && _kernel is { } kernel) kernel.InterestChanged(fd, op == Libc.EPOLL_CTL_DEL ? WatchOptions.None : InterestOf(events));
        return err;
    }

    /// <summary>The <see cref="WatchOptions"/> an epoll event mask stands for.</summary>
    public static WatchOptions InterestOf(uint ev)
    {
        var interest = WatchOptions.None;
        if ((ev & Libc.EPOLLIN) != 0) interest |= WatchOptions.Read;
        if ((ev & Libc.EPOLLOUT) != 0) interest |= WatchOptions.Write;
        if ((ev & Libc.EPOLLET) != 0) interest |= WatchOptions.EdgeTriggered;
        if ((ev & Libc.EPOLLONESHOT) != 0) interest |= WatchOptions.OneShot;
        return interest;
    }

    private int ControlCore(int op, int fd, uint events, ulong data)
    {
        switch (op)
        {
            case Libc.EPOLL_CTL_ADD:
                if (_registered.ContainsKey(fd)) return Errno.EEXIST;
                _registered[fd] = (events, data);
                _disarmed.Remove(fd);
                return 0;
            case Libc.EPOLL_CTL_MOD:
                if (!_registered.ContainsKey(fd)) return Errno.ENOENT;
                _registered[fd] = (events, data);
                _disarmed.Remove(fd);
                return 0;
            case Libc.EPOLL_CTL_DEL:
                _disarmed.Remove(fd);
                return _registered.Remove(fd) ? 0 : Errno.ENOENT;
            default:
                return Errno.EINVAL;
        }
    }

    public override InternalWatch WatchReadable(int fd, Action<object?> callback, object? state) => _side.WatchReadable(fd, callback, state);
    public override bool OwnsFd(int fd) => _side.OwnsFd(fd);

    public bool IsRegistered(int fd, out uint events)
    {
        bool found = _registered.TryGetValue(fd, out var r);
        events = r.Events;
        return found;
    }

    public void Inject(int fd, uint events) => _injected.Enqueue((fd, events));

    public override void Wait(long timeoutNs)
    {
        _side.WaitVirtually(_injected.Count > 0 ? 0 : timeoutNs);
        _loop.OnWaitReturned();

        // Deliver only what was injected before this wait; reports injected by these callbacks come next iteration.
        int count = _injected.Count;
        for (int i = 0; i < count; i++)
        {
            var (fd, ev) = _injected.Dequeue();
            if (!_registered.TryGetValue(fd, out var reg)) continue;
            // Like the kernel: interest filters IN/OUT, while ERR and HUP are always reported.
            uint deliver = ev & (reg.Events | Libc.EPOLLERR | Libc.EPOLLHUP | Libc.EPOLLRDHUP);
            if (deliver == 0) continue;
            // EPOLLONESHOT: one report, then disarmed until EPOLL_CTL_MOD re-arms it.
            if ((reg.Events & Libc.EPOLLONESHOT) != 0 && !_disarmed.Add(fd)) continue;
            Driver.Dispatch(reg.Data, deliver);
        }
    }

    public override void Wake() => _side.Wake();

    public override void Dispose()
    {
        _registered.Clear();
        _injected.Clear();
        _disarmed.Clear();
        _side.Dispose();
    }
}
