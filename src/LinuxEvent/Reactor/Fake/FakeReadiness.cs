using System.Net;
using LinuxEvent.Native;
using LinuxEvent.Reactor;

namespace LinuxEvent;

/// <summary>
/// Controls of a <see cref="ReactorLoop"/> created with <see cref="ReactorBackend.Fake"/>: inject readiness and move
/// the virtual clock. These calls only queue reports or move time; callbacks run on the next
/// <see cref="Loop.RunOnce"/>/<see cref="Loop.Run()"/>, in injection order (timers: deadline, then scheduling order).
/// </summary>
/// <remarks>
/// An injected report is delivered once, filtered like the kernel filters it: readable/writable only if the watcher
/// has that interest, error and hang-up always; a one-shot watcher is disarmed after one report until re-enabled.
/// When the loop would sleep, the virtual clock jumps to the wake-up time instead (to the next timer deadline, or
/// by the RunOnce timeout), so timer-driven code runs instantly and deterministically.
/// </remarks>
public sealed partial class FakeReadiness
{
    private readonly FakeReactorBackend _backend;
    private readonly ReactorLoop _loop;
    private FakeDatagramScript? _datagrams;

    internal FakeReadiness(FakeReactorBackend backend, ReactorLoop loop)
    {
        _backend = backend;
        _loop = loop;
    }

    /// <summary>The virtual CLOCK_MONOTONIC in nanoseconds (starts at 1 s, or the shared <see cref="FakeClock"/>'s time).</summary>
    public long NowNanoseconds => _backend.ReadClock();

    /// <summary>The earliest deadline of the loop's timers (virtual nanoseconds), or null when none is scheduled: how
    /// far a driver of several loops on one <see cref="FakeClock"/> may move the clock before this loop has work.</summary>
    public long? NextTimerDeadline => _loop.NextTimerDeadline;

    /// <summary>
    /// The simulated kernel behind the loop's own syscalls on ready fds (recv, send, accept4, connect...), told of every
    /// change of the loop's interest in an fd; null (the default) means the real kernel. Set it before the loop does
    /// any I/O. See <see cref="FakeReactorKernel"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">Set on a disposed loop.</exception>
    public FakeReactorKernel? Kernel
    {
        get => _backend.Kernel;
        set
        {
            if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
            _loop.CheckLoopThread("FakeReadiness.Kernel");
            _backend.Kernel = value;
        }
    }

    /// <summary>Queues a readiness report for <paramref name="fd"/>. Ignored at delivery if nothing watches the fd then.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative or <paramref name="readiness"/> is empty.</exception>
    public void Inject(int fd, Readiness readiness)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "FakeReadiness.Inject: the fd must not be negative.");
        if (readiness == Readiness.None) throw new ArgumentOutOfRangeException(nameof(readiness), readiness, "FakeReadiness.Inject: inject at least one readiness flag.");
        if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
        uint ev = 0;
        if ((readiness & Readiness.Readable) != 0) ev |= Libc.EPOLLIN;
        if ((readiness & Readiness.Writable) != 0) ev |= Libc.EPOLLOUT;
        if ((readiness & Readiness.Error) != 0) ev |= Libc.EPOLLERR;
        if ((readiness & Readiness.HangUp) != 0) ev |= Libc.EPOLLHUP;
        if ((readiness & Readiness.ReadHangUp) != 0) ev |= Libc.EPOLLRDHUP;
        _backend.Inject(fd, ev);
    }

    /// <summary>Moves the virtual clock forward. Timers that become due fire on the next iteration.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "FakeReadiness.Advance: time only moves forward.");
        _backend.Advance(Loop.TicksToNs(by.Ticks));
        _loop.OnWaitReturned();
    }

    /// <summary>
    /// Runs iterations with a zero wait (the virtual clock does not move) until one runs no callback and nothing is
    /// queued; returns the callbacks run in total.
    /// </summary>
    /// <exception cref="InvalidOperationException">Still busy after <paramref name="maxIterations"/> iterations (a livelock).</exception>
    public int RunUntilIdle(int maxIterations = 100_000)
        => _loop.RunUntilIdle(maxIterations, "FakeReadiness.RunUntilIdle");

    /// <summary>The interest currently registered for <paramref name="fd"/> (None + false if not registered).</summary>
    public bool TryGetInterest(int fd, out WatchOptions interest)
    {
        interest = WatchOptions.None;
        if (!_backend.IsRegistered(fd, out uint ev)) return false;
        interest = FakeReactorBackend.InterestOf(ev);
        return true;
    }

    // ------------------------------------------------------------------ scripted datagrams

    /// <summary>
    /// Queues one datagram for <paramref name="fd"/> and injects <see cref="Readiness.Readable"/>. From the first call
    /// that names an fd here, its sendmsg/recvmsg (<see cref="Loop.ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/>, <see cref="Loop.SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/>
    /// and the message forms) are served by this script instead of the kernel: a receive takes the next queued datagram
    /// in order, or gets EAGAIN (and waits for readiness) when there is none. A datagram longer than the receiver's
    /// buffer is truncated and flagged, as the kernel does. Ownership of <paramref name="fds"/> passes to the script:
    /// the receiver gets the ones it has room for, the others are closed (flagged ControlTruncated), and any still
    /// queued when the loop is disposed are closed then.
    /// </summary>
    /// <param name="fd">The socket (any fd number; scripted I/O never touches it).</param>
    /// <param name="data">The datagram (empty: a zero-length datagram).</param>
    /// <param name="from">The sender, or null for an unnamed one.</param>
    /// <param name="fds">SCM_RIGHTS fds carried by the datagram.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public void DeliverDatagram(int fd, ReadOnlySpan<byte> data, EndPoint? from, ReadOnlySpan<int> fds = default)
    {
        Script(fd, nameof(DeliverDatagram)).Deliver(fd, data, from, fds);
        _backend.Inject(fd, Libc.EPOLLIN);
    }

    /// <summary>The datagrams sent on <paramref name="fd"/> since the last call, in order (scripts the fd: from now on
    /// its sends are recorded here instead of reaching the kernel).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public IReadOnlyList<FakeDatagram> TakeSentDatagrams(int fd) => Script(fd, nameof(TakeSentDatagrams)).TakeSent(fd);

    /// <summary>
    /// While blocked, a send on <paramref name="fd"/> gets EAGAIN, as with a full socket send buffer, and waits for
    /// writability; unblocking injects <see cref="Readiness.Writable"/>. Scripts the fd.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public void SetSendBlocked(int fd, bool blocked)
    {
        Script(fd, nameof(SetSendBlocked)).SetSendBlocked(fd, blocked);
        if (!blocked) _backend.Inject(fd, Libc.EPOLLOUT);
    }

    /// <summary>
    /// While <paramref name="errno"/> is not 0, a send on <paramref name="fd"/> fails with it (e.g. EHOSTUNREACH or
    /// EMSGSIZE, as the kernel would refuse a datagram); 0 lets sends through again. Scripts the fd.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> or <paramref name="errno"/> is negative.</exception>
    public void FailSends(int fd, int errno)
    {
        if (errno < 0) throw new ArgumentOutOfRangeException(nameof(errno), errno, "FakeReadiness.FailSends: errno must be positive (or 0 to stop failing).");
        Script(fd, nameof(FailSends)).FailSends(fd, errno);
    }

    private FakeDatagramScript Script(int fd, string call)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, $"FakeReadiness.{call}: the fd must not be negative.");
        if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ReactorLoop));
        if (_datagrams is null)
        {
            var driver = (ReactorIoDriver)_loop.Driver;
            _datagrams = new FakeDatagramScript(_loop, driver.Sys);
            driver.Sys = _datagrams.Syscalls;
        }
        return _datagrams;
    }
}
