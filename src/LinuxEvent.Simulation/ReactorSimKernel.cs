using System.Net;

namespace LinuxEvent.Simulation;

/// <summary>
/// The simulated kernel of a reactor host: serves the loop's syscalls on simulated sockets, and plays epoll: before each
/// iteration it injects the readiness the kernel would report, level-triggered, edge-triggered or one-shot as each fd
/// is registered, in an order the seed picks.
/// </summary>
internal sealed class ReactorSimKernel(Simulator sim, SimHost host, FakeReadiness fake) : FakeReactorKernel
{
    private readonly List<SimSocket> _ready = new();

    protected override int Read(int fd, Span<byte> buffer) => sim.Find(fd) is { } s ? sim.Receive(s, buffer, reactor: true) : base.Read(fd, buffer);

    protected override int Receive(int fd, Span<byte> buffer) => sim.Find(fd) is { } s ? sim.Receive(s, buffer, reactor: true) : base.Receive(fd, buffer);

    protected override int Write(int fd, ReadOnlySpan<byte> buffer) => sim.Find(fd) is { } s ? sim.Send(s, buffer, reactor: true) : base.Write(fd, buffer);

    protected override int Send(int fd, ReadOnlySpan<byte> buffer) => sim.Find(fd) is { } s ? sim.Send(s, buffer, reactor: true) : base.Send(fd, buffer);

    protected override int Accept(int fd) => sim.Find(fd) is { } s ? sim.Accept(s) : base.Accept(fd);

    protected override int Connect(int fd, EndPoint remote) => sim.Find(fd) is { } s ? sim.Connect(s, remote) : base.Connect(fd, remote);

    protected override int GetSocketError(int fd) => sim.Find(fd) is { } s ? sim.TakeSocketError(s) : base.GetSocketError(fd);

    protected override int Poll(int fd, out Readiness readiness)
    {
        if (sim.Find(fd) is not { } s) return base.Poll(fd, out readiness);
        readiness = s.Level(sim.NowNanoseconds);
        return 0;
    }

    // Simulated sockets are TCP: the loop may rely on the edges TCP raises after a short transfer, and they come.
    protected override (bool Stream, bool Tcp) GetStreamKind(int fd) => sim.Find(fd) is not null ? (true, true) : base.GetStreamKind(fd);

    protected override void InterestChanged(int fd, WatchOptions interest)
    {
        if (sim.Find(fd) is not { } s) return;
        s.Registered = interest != WatchOptions.None;
        s.Interest = interest;
        // epoll reports a ready fd right after ADD/MOD, also an edge-triggered one; MOD re-arms a one-shot registration.
        s.OneShotArmed = (interest & WatchOptions.OneShot) != 0;
        Simulator.Changed(s);
    }

    private static string Flags(Readiness r)
    {
        Span<char> chars = stackalloc char[5];
        int n = 0;
        if ((r & Readiness.Readable) != 0) chars[n++] = 'r';
        if ((r & Readiness.Writable) != 0) chars[n++] = 'w';
        if ((r & Readiness.ReadHangUp) != 0) chars[n++] = 'f';
        if ((r & Readiness.HangUp) != 0) chars[n++] = 'h';
        if ((r & Readiness.Error) != 0) chars[n++] = 'e';
        return new string(chars[..n]);
    }

    /// <summary>Injects what epoll would report now for this host's registered sockets, in a seeded order.</summary>
    public void InjectReadiness()
    {
        _ready.Clear();
        foreach (var s in host.Sockets)
            if (s.Registered && s.Fd >= 0 && !s.AppClosed) _ready.Add(s);
        if (_ready.Count > 1) sim.ScheduleRandom.Shuffle(_ready);
        long now = sim.NowNanoseconds;
        foreach (var s in _ready)
        {
            var interest = s.Interest;
            var mask = Readiness.Error | Readiness.HangUp;
            if ((interest & WatchOptions.Read) != 0) mask |= Readiness.Readable | Readiness.ReadHangUp;
            if ((interest & WatchOptions.Write) != 0) mask |= Readiness.Writable;
            var report = s.Level(now) & mask;
            bool edge = s.EdgePending;
            s.EdgePending = false;
            if (report == Readiness.None) continue;
            if ((interest & WatchOptions.OneShot) != 0)
            {
                if (!s.OneShotArmed) continue;
                s.OneShotArmed = false;
            }
            else if ((interest & WatchOptions.EdgeTriggered) != 0 && !edge) continue;
            fake.Inject(s.Fd, report);
            sim.Trace.Write($"ready {s.Name} {Flags(report)}");
        }
    }
}
