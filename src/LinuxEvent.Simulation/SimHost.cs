using System.Net;
using LinuxEvent.Net;

namespace LinuxEvent.Simulation;

/// <summary>
/// One machine of a <see cref="Simulation"/>: a fake loop (reactor or proactor) on the shared virtual clock, an
/// address, and its simulated sockets. Server and client code take <see cref="Loop"/> and run unchanged; the helpers
/// here create the sockets that only the simulated network has (a listener, an outgoing socket, a
/// <see cref="Connector"/> option).
/// </summary>
/// <remarks>
/// The loop is driven by the simulation (<see cref="Simulator.RunUntil"/>); never call its Run/RunOnce yourself. Code
/// that starts work from outside the loop uses <see cref="Spawn"/> or <see cref="Post"/>, which tell the scheduler.
/// An unhandled exception on the loop fails the run (set <see cref="Loop.UnhandledException"/> to change that).
/// </remarks>
public sealed class SimHost
{
    private readonly ReactorSimKernel? _reactor;
    private readonly ProactorSimKernel? _proactor;
    private readonly FakeReadiness? _readiness;
    private readonly FakeCompletions? _completions;
    private int _nextPort = 40000;
    private ConnectOptions? _connectOptions;

    internal SimHost(Simulator simulation, string name, IPAddress address, LoopModel model, int index)
    {
        Simulator = simulation;
        Name = name;
        Address = address;
        Index = index;
        if (model == LoopModel.Reactor)
        {
            var loop = Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake, FakeClock = simulation.Clock });
            _readiness = loop.Fake!;
            _reactor = new ReactorSimKernel(simulation, this, _readiness);
            _readiness.Kernel = _reactor;
            Loop = loop;
        }
        else
        {
            var loop = Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake, FakeClock = simulation.Clock });
            _completions = loop.Fake!;
            _proactor = new ProactorSimKernel(simulation, this, _completions);
            Loop = loop;
        }
        Loop.UnhandledException = (_, ex) => simulation.Fail($"{name}: unhandled {ex.GetType().Name}: {ex.Message}", ex);
    }

    /// <summary>The simulation this host belongs to.</summary>
    public Simulator Simulator { get; }

    /// <summary>The host's name (unique in its simulation; it names the host in the trace).</summary>
    public string Name { get; }

    /// <summary>The host's address (10.0.x.y).</summary>
    public IPAddress Address { get; }

    /// <summary>The host's fake loop: give it to the code under test.</summary>
    public Loop Loop { get; }

    internal int Index { get; }

    /// <summary>This host's simulated sockets not yet released, in creation order.</summary>
    internal List<SimSocket> Sockets { get; } = new();

    internal bool Dirty { get; private set; } = true;

    /// <summary><see cref="Address"/> with <paramref name="port"/>.</summary>
    public IPEndPoint EndPoint(int port) => new(Address, port);

    /// <summary>
    /// A listening socket on <see cref="Address"/>:<paramref name="port"/>: a placeholder fd to use as a listening
    /// socket on this host's loop (<see cref="Loop.AcceptAsync(int, CancellationToken)"/>, <see cref="Loop.Register"/>, or
    /// <see cref="Listener.FromSocket(Loop, int, bool, AcceptHandler?, ListenerOptions?)"/>). The caller owns it; closing it stops listening (connections still queued are
    /// reset).
    /// </summary>
    /// <exception cref="LinuxEventSocketException">EADDRINUSE: something listens there already.</exception>
    public int Listen(int port, int backlog = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        return Simulator.Listen(this, EndPoint(port), backlog);
    }

    /// <summary>
    /// A new, unconnected simulated TCP socket of this host (a placeholder fd, non-blocking), to connect with
    /// <see cref="Loop.ConnectAsync(int, EndPoint, CancellationToken)"/> or <see cref="LoopFd.ConnectAsync(EndPoint, CancellationToken)"/>. The caller owns it.
    /// </summary>
    public int CreateSocket()
    {
        var s = Simulator.NewSocket(this, SocketRole.Unbound);
        return Simulator.AttachFd(s);
    }

    /// <summary><see cref="Connector"/> options whose sockets are this host's simulated sockets (30 s virtual timeout).</summary>
    public ConnectOptions ConnectOptions => _connectOptions ??= new ConnectOptions { SocketFactory = _ => CreateSocket() };

    /// <summary>A <see cref="Listener"/> on <see cref="Address"/>:<paramref name="port"/> (it owns the listening socket).</summary>
    public Listener Bind(int port, AcceptHandler? onAccept, ListenerOptions? options = null)
    {
        int fd = Listen(port, options?.Backlog ?? 128);
        try { return Listener.FromSocket(Loop, fd, ownsSocket: true, onAccept, options); }
        catch
        {
            Posix.CloseQuietly(fd);
            throw;
        }
    }

    /// <summary>Connects to <paramref name="remote"/> through <see cref="Connector"/>, from this host.</summary>
    public ConnectAttempt Connect(EndPoint remote, Action<ConnectResult> callback, TimeSpan? timeout = null)
    {
        var options = timeout is { } t ? new ConnectOptions { SocketFactory = _ => CreateSocket(), Timeout = t } : ConnectOptions;
        return Connector.Connect(Loop, remote, callback, options);
    }

    /// <summary>Starts <paramref name="work"/> on this host's loop (see <see cref="Loop.Spawn(Func{Task})"/>).</summary>
    public Task Spawn(Func<Task> work)
    {
        MarkDirty();
        return Loop.Spawn(work);
    }

    /// <summary>Runs <paramref name="action"/> on this host's loop, at its next iteration.</summary>
    public void Post(Action<Loop> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        MarkDirty();
        Loop.Defer(static s => { var (a, l) = ((Action<Loop>, Loop))s!; a(l); }, (action, Loop));
    }

    /// <summary>Simulated sockets of this host that its application still holds (not closed).</summary>
    public int OpenSocketCount => CountOpenSockets();

    /// <summary>
    /// Bytes this host's sockets sent that never reached the peer's receive buffer: lost to a reset (the Reset fault),
    /// or sent to a socket its application had closed. Zero means every byte this host sent was delivered, which a
    /// scenario uses to tell which messages a peer must have received.
    /// </summary>
    public long BytesLost { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Address}, {Loop.Model.ToString().ToLowerInvariant()})";

    internal int NextEphemeralPort() => _nextPort++;

    internal void MarkDirty() => Dirty = true;

    internal long? NextTimerDeadline => _readiness is not null ? _readiness.NextTimerDeadline : _completions!.NextTimerDeadline;

    internal bool HasWork(long now) => Dirty || NextTimerDeadline <= now;

    /// <summary>Before an iteration: what the kernel reports to this loop now (readiness, or completions).</summary>
    internal void Prepare()
    {
        if (_reactor is not null) _reactor.InjectReadiness();
        else _proactor!.Progress();
        Dirty = false;
    }

    internal void AfterIdleIteration() { }

    internal int CountOpenSockets()
    {
        int n = 0;
        foreach (var s in Sockets)
            if (s.Fd >= 0 && !s.AppClosed) n++;
        return n;
    }

    internal void DescribeOpenSockets(List<string> into)
    {
        foreach (var s in Sockets)
            if (s.Fd >= 0 && !s.AppClosed)
                into.Add($"{s.Name} on {Name} ({s.Role.ToString().ToLowerInvariant()}{(s.Peer is { } p ? " with " + p.Name + " on " + p.Host.Name : "")}{s.Describe()})");
    }
}
