using System.Globalization;
using System.Net;

namespace LinuxEvent.Simulation;

/// <summary>
/// A deterministic simulation of a network of hosts, each running a fake loop (reactor or proactor) on one shared
/// virtual clock, driven by one seeded scheduler. Server and client code run unchanged: they take a <see cref="Loop"/>
/// and use sockets that exist only in the simulated network (kernel-like receive buffers, short reads and writes, FIN,
/// RST, backlogs), reached through the loops' fake backends: readiness injected into reactors, completions of the
/// operations proactors submit.
/// </summary>
/// <remarks>
/// <para><b>What the seed decides:</b> which host runs next when several have work (hence the order of ready events
/// across connections), how each fd's reports are ordered, the size of every read, write and segment, the latency of
/// every delivery, and the faults (<see cref="FaultProfile"/>). Segments of one connection never overtake each other.</para>
/// <para><b>Time</b> moves only when every host is idle: to the next delivery or timer deadline (or further, by a clock
/// jump fault). Code that sleeps for a minute costs nothing.</para>
/// <para><b>Reproducibility:</b> the same seed, code and options give a byte-identical <see cref="Trace"/>. Nothing in
/// it depends on fd numbers, hash order, threads or wall time.</para>
/// <para><b>Sockets</b> are backed by real placeholder fds (one end of a Unix socket pair per simulated socket), so fd
/// numbers never collide with real fds and closing or shutting one down are ordinary syscalls, which the simulation
/// notices. Use them only with the loop of the host that created them. Single-threaded: create, run and dispose a
/// simulation on one thread (several simulations may run on different threads).</para>
/// </remarks>
public sealed partial class Simulator : IDisposable
{
    private readonly List<SimHost> _hosts = new();
    private readonly SimRandom _net, _faults, _schedule;
    private readonly FdLifecycleMonitor _monitor;
    private string? _failure;
    private Exception? _failureException;
    private bool _disposed;

    /// <summary>Creates a simulation; nothing runs until <see cref="RunUntil"/> or <see cref="RunFor"/>.</summary>
    public Simulator(SimulationOptions? options = null)
    {
        Options = options ?? new SimulationOptions();
        Seed = Options.Seed;
        var root = new SimRandom(Seed);
        // One stream per consumer, split in a fixed order: each is independent of how much the others draw.
        _schedule = root.Split();
        _net = root.Split();
        _faults = root.Split();
        Random = root.Split();
        Faults = Options.Faults ?? FaultProfile.Swarm(root.Split());
        Clock = new FakeClock();
        StartNanoseconds = Clock.NowNanoseconds;
        Trace = new SimTrace(Options.RecordTrace, () => Clock.NowNanoseconds);
        _monitor = new FdLifecycleMonitor(this);
        Trace.Write($"simulation seed={Seed} model={Options.Model.ToString().ToLowerInvariant()} faults: {Faults}");
    }

    /// <summary>The options of the run.</summary>
    public SimulationOptions Options { get; }

    /// <summary>The seed of the run.</summary>
    public ulong Seed { get; }

    /// <summary>The faults of the run (given, or drawn from the seed).</summary>
    public FaultProfile Faults { get; }

    /// <summary>The run's trace (always hashed; lines kept with <see cref="SimulationOptions.RecordTrace"/>).</summary>
    public SimTrace Trace { get; }

    /// <summary>The virtual clock every host's loop runs on.</summary>
    public FakeClock Clock { get; }

    /// <summary>The virtual time in nanoseconds.</summary>
    public long NowNanoseconds => Clock.NowNanoseconds;

    /// <summary>Virtual time elapsed since the simulation was created.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks((Clock.NowNanoseconds - StartNanoseconds) / 100);

    internal long StartNanoseconds { get; }

    /// <summary>The scheduler's stream: which host runs, in which order each host's fds are reported or completed.</summary>
    internal SimRandom ScheduleRandom => _schedule;

    /// <summary>Draws a fault with probability <paramref name="p"/> from the faults' stream.</summary>
    internal bool FaultChance(double p) => _faults.Chance(p);

    /// <summary>A receive buffer size for a new socket: 1..64 KiB, drawn from the network's stream (small ones make
    /// backpressure common).</summary>
    internal int NextReceiveBufferSize() => (int)_net.NextInRange(1024, 64 * 1024);

    /// <summary>A random stream for the scenario's own decisions (what clients send, when they leave), split from the
    /// seed: scenarios draw from it, never from System.Random, so a seed replays them too.</summary>
    public SimRandom Random { get; }

    /// <summary>The hosts, in creation order.</summary>
    public IReadOnlyList<SimHost> Hosts => _hosts;

    /// <summary>The failure recorded so far (an invariant, a stall, a loop's unhandled exception), or null.</summary>
    public string? Failure => _failure;

    /// <summary>True once a failure was recorded.</summary>
    public bool HasFailed => _failure is not null;

    /// <summary>The replay command of this run (<see cref="SimulationOptions.ReplayCommand"/> with the seed), or null.</summary>
    public string? ReplayCommand => Options.ReplayCommand?.Replace("{seed}", Seed.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>
    /// Adds a host named <paramref name="name"/> (unique; it names the host in the trace) with a fake loop of
    /// <paramref name="model"/> (default: <see cref="SimulationOptions.Model"/>) on the shared clock, and an address
    /// 10.0.x.y of its own.
    /// </summary>
    public SimHost CreateHost(string name, LoopModel? model = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var h in _hosts)
            if (h.Name == name) throw new ArgumentException($"Simulator.CreateHost: a host named '{name}' exists already.", nameof(name));
        int index = _hosts.Count;
        var address = new IPAddress(new byte[] { 10, 0, (byte)((index + 1) >> 8), (byte)((index + 1) & 0xFF) });
        var host = new SimHost(this, name, address, model ?? Options.Model, index);
        _hosts.Add(host);
        Trace.Write($"host {name} {address} {host.Loop.Model.ToString().ToLowerInvariant()}");
        return host;
    }

    /// <summary>
    /// Records a failure (an invariant the scenario checks): the run stops at the next scheduler step, and
    /// <see cref="ThrowIfFailed"/> throws. The first failure wins.
    /// </summary>
    public void Fail(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_failure is not null) return;
        _failure = NameFds(message);                 // an exception's message names fds: the trace must not
        Trace.Write("FAIL " + _failure);
    }

    internal void Fail(string message, Exception exception)
    {
        if (_failure is null) _failureException = exception;
        Fail(message);
    }

    /// <summary>Throws <see cref="SimulationFailedException"/> (seed, failure, replay command) if a failure was recorded.</summary>
    public void ThrowIfFailed()
    {
        if (_failure is not null) throw new SimulationFailedException(Seed, _failure, ReplayCommand, _failureException);
    }

    /// <summary>
    /// Adds the application's text to the trace (a log line, a checkpoint), with every "fd=N" or "fd N" that names a
    /// simulated socket rewritten to the socket's trace name: fd numbers differ from one process to the next, and a
    /// trace must not. Give a server's diagnostics to this.
    /// </summary>
    public void Note(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Trace.Note(NameFds(text));
    }

    private string NameFds(string text) => s_fdPattern.Replace(text, m =>
        int.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int fd) && Find(fd) is { } s
            ? m.Groups[1].Value + s.Name
            : m.Groups[1].Value + "?");

    private static readonly System.Text.RegularExpressions.Regex s_fdPattern = new(@"(fd[= ])(\d+)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The trace name ("s12") of the simulated socket behind the application's <paramref name="fd"/>, or null for
    /// an fd that is not one (or no longer).</summary>
    public string? SocketName(int fd) => Find(fd)?.Name;

    /// <summary>Simulated sockets the applications still hold (not closed), across all hosts.</summary>
    public int OpenSocketCount
    {
        get
        {
            CheckLifecycle();
            int n = 0;
            foreach (var h in _hosts) n += h.CountOpenSockets();
            return n;
        }
    }

    /// <summary>The simulated sockets the applications still hold, described (host, role, peer), in creation order.</summary>
    public IReadOnlyList<string> DescribeOpenSockets()
    {
        CheckLifecycle();
        var list = new List<string>();
        foreach (var h in _hosts) h.DescribeOpenSockets(list);
        return list;
    }

    /// <summary>
    /// Disposes every host's loop (their components close what they own), then releases what the simulation itself
    /// holds: the placeholders' monitoring ends, and placeholders the applications never closed (a leak the scenario
    /// should have reported through <see cref="OpenSocketCount"/>).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        List<Exception>? errors = null;
        foreach (var h in _hosts)
        {
            try { h.Loop.Dispose(); }
            catch (Exception ex) { (errors ??= new()).Add(ex); }
        }
        foreach (var s in AllSockets()) ForgetSocket(s, closeAppFd: true);
        _monitor.Dispose();
        if (errors is not null) throw new AggregateException("Simulator.Dispose: loops threw while they were disposed.", errors);
    }
}
