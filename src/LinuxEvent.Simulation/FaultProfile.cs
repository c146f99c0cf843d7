using System.Globalization;
using System.Text;

namespace LinuxEvent.Simulation;

/// <summary>
/// What can go wrong in a run, each fault with its own probability (0 = never, 1 = every time it can). A run's
/// profile is fixed when the run starts: explicitly (<see cref="SimulationOptions.Faults"/>), or drawn from the seed
/// (<see cref="Swarm"/>), so that different seeds explore different mixes — a run with many resets and no delays, the
/// next with stalled readers only — instead of a little of everything every time.
/// </summary>
public sealed class FaultProfile
{
    /// <summary>No faults: only the seeded ordering, segment sizes and latencies vary.</summary>
    public static FaultProfile None { get; } = new();

    /// <summary>Per delivery of a segment: an extra delay up to <see cref="MaxExtraDelay"/> (a congested path). Segments of
    /// one connection still arrive in order; across connections they overtake each other.</summary>
    public double Delay { get; init; }

    /// <summary>Per transfer: a short read or write (fewer bytes than the buffer and the data allow), and per send, the
    /// bytes arrive split into several segments.</summary>
    public double PartialIo { get; init; }

    /// <summary>Per syscall or operation that could make progress: it does not. The reactor's recv/send return EAGAIN
    /// (the fd is reported ready again at once, as if the data had come a moment later: TCP raises that edge too); a
    /// proactor receive or send completes with EINTR (io_uring's report of a request a signal interrupted before it
    /// transferred anything).</summary>
    public double SpuriousRetry { get; init; }

    /// <summary>Per delivery: the connection is reset instead (both ends get ECONNRESET, data not yet delivered is lost).</summary>
    public double Reset { get; init; }

    /// <summary>Per delivery: the receiving application stops reading for up to <see cref="MaxStall"/> (its receive
    /// buffer fills, and the sender's writes block: backpressure).</summary>
    public double StopReading { get; init; }

    /// <summary>Per accept that would succeed: it fails with EMFILE (the connection stays in the backlog).</summary>
    public double AcceptEmfile { get; init; }

    /// <summary>Per point where the whole simulation is idle: the clock jumps forward by up to <see cref="MaxClockJump"/>
    /// (a paused VM, a stalled host): every due timer and delivery then happens late, at once.</summary>
    public double ClockJump { get; init; }

    /// <summary>Proactor, per cancellation the kernel could also complete: the completion wins (Cancel() returned true
    /// and the operation still completes with its result, sometimes after the cancel got -EALREADY).</summary>
    public double CancelRace { get; init; }

    /// <summary>The shortest one-way latency of a delivery (default 20 µs).</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromTicks(200);

    /// <summary>The longest one-way latency of a delivery without the <see cref="Delay"/> fault (default 2 ms).</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest extra delay of the <see cref="Delay"/> fault (default 200 ms).</summary>
    public TimeSpan MaxExtraDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest pause of the <see cref="StopReading"/> fault (default 500 ms).</summary>
    public TimeSpan MaxStall { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest jump of the <see cref="ClockJump"/> fault (default 2 s).</summary>
    public TimeSpan MaxClockJump { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// "Swarm" profile drawn from <paramref name="random"/>: each fault is switched on with probability 1/2, at a
    /// probability drawn from its own range (frequent for cheap faults such as partial I/O, rare for resets).
    /// </summary>
    public static FaultProfile Swarm(SimRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double Pick(double min, double max) => random.Chance(0.5) ? min + (max - min) * random.NextDouble() : 0;
        return new FaultProfile
        {
            Delay = Pick(0.01, 0.2),
            PartialIo = Pick(0.05, 0.5),
            SpuriousRetry = Pick(0.01, 0.2),
            Reset = Pick(0.0005, 0.004),
            StopReading = Pick(0.002, 0.02),
            AcceptEmfile = Pick(0.05, 0.5),
            ClockJump = Pick(0.002, 0.02),
            CancelRace = Pick(0.1, 0.9),
        };
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        void Add(string name, double p)
        {
            if (p <= 0) return;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(name).Append('=').Append(p.ToString("0.####", CultureInfo.InvariantCulture));
        }
        Add("delay", Delay);
        Add("partial", PartialIo);
        Add("retry", SpuriousRetry);
        Add("reset", Reset);
        Add("stall", StopReading);
        Add("emfile", AcceptEmfile);
        Add("jump", ClockJump);
        Add("cancel-race", CancelRace);
        return sb.Length == 0 ? "none" : sb.ToString();
    }
}
