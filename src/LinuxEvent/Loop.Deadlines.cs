using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using LinuxEvent.Async;
using LinuxEvent.Datagrams;
using LinuxEvent.Seam;

namespace LinuxEvent;

// Per-operation deadlines, written once for both models: the TimeSpan-timeout overloads of the async I/O calls. The
// rules above the seam are those of every async call; the deadline rides on the pooled awaitable (AsyncOp.TimeoutNs).
// A driver that links deadlines into the kernel (the proactor: IORING_OP_LINK_TIMEOUT, or the fake's virtual timer)
// enforces it with the operation itself; otherwise (the reactor) a loop timer, one per pooled awaitable and restarted
// per use, cancels the operation when it fires. Either way the operation settles once: with its result if it finished
// first, with LinuxEventTimeoutException if the deadline did, with OperationCanceledException if the token did.
public abstract partial class Loop
{
    private long _startingTimeoutNs = AsyncOp.NoTimeout;
    private static readonly Action<Loop, AsyncOp> s_deadlineExpired = static (loop, op) => loop.ExpireDeadline(op);

    /// <summary>
    /// <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/> with a deadline: if nothing was read within
    /// <paramref name="timeout"/> the read is cancelled and the call throws <see cref="LinuxEventTimeoutException"/> (a
    /// <see cref="TimeoutException"/>). See the remarks for what a deadline means on each model.
    /// </summary>
    /// <param name="fd">The fd to read.</param>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="timeout">How long the read may wait, from the loop's current time (<see cref="NowNanoseconds"/>);
    /// <see cref="Timeout.InfiniteTimeSpan"/> for no deadline; zero: only data already there is read.</param>
    /// <param name="cancellationToken">Cancels the read (<see cref="OperationCanceledException"/>).</param>
    /// <remarks>
    /// <para><b>Outcomes</b> (both models): the operation settles exactly once. If it completes before the deadline, its
    /// result is returned and the deadline is disarmed. If the deadline passes first, the kernel operation (or the
    /// readiness wait) is cancelled and the call throws <see cref="LinuxEventTimeoutException"/>; no bytes were
    /// transferred by it. If the kernel completed it in the same instant, its result wins (no data is lost). A token
    /// cancelled before the deadline gives <see cref="OperationCanceledException"/>.</para>
    /// <para><b>Reactor:</b> a loop timer (allocated once per pooled awaitable, restarted per call). A call that
    /// completes at once (data already there) never arms it. <b>Proactor:</b> io_uring's IORING_OP_LINK_TIMEOUT linked
    /// to the operation's SQE: the kernel cancels the operation when the timer fires (it then completes with
    /// -ECANCELED), and cancels the timer when the operation completes first. <b>Fakes:</b> the deadline follows the
    /// virtual clock.</para>
    /// <para>Allocation-free in steady state when the deadline is not hit.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>), or <paramref name="fd"/> is negative.</exception>
    public ValueTask<int> ReadAsync(int fd, Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Read, fd, buffer, default, null, cancellationToken, "Loop.ReadAsync", null, TimeoutNsOf(timeout, "Loop.ReadAsync")).AsValueTask();

    /// <summary><see cref="WriteAsync(int, ReadOnlyMemory{byte}, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="fd"/> is negative.</exception>
    public ValueTask<int> WriteAsync(int fd, ReadOnlyMemory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Write, fd, default, buffer, null, cancellationToken, "Loop.WriteAsync", null, TimeoutNsOf(timeout, "Loop.WriteAsync")).AsValueTask();

    /// <summary><see cref="ReceiveAsync(int, Memory{byte}, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="socket"/> is negative.</exception>
    public ValueTask<int> ReceiveAsync(int socket, Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Receive, socket, buffer, default, null, cancellationToken, "Loop.ReceiveAsync", null, TimeoutNsOf(timeout, "Loop.ReceiveAsync")).AsValueTask();

    /// <summary><see cref="SendAsync(int, ReadOnlyMemory{byte}, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="socket"/> is negative.</exception>
    public ValueTask<int> SendAsync(int socket, ReadOnlyMemory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Send, socket, default, buffer, null, cancellationToken, "Loop.SendAsync", null, TimeoutNsOf(timeout, "Loop.SendAsync")).AsValueTask();

    /// <summary><see cref="AcceptAsync(int, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or the socket is negative.</exception>
    public ValueTask<int> AcceptAsync(int listeningSocket, TimeSpan timeout, CancellationToken cancellationToken = default)
        => StartIo(AsyncKind.Accept, listeningSocket, default, default, null, cancellationToken, "Loop.AcceptAsync", null, TimeoutNsOf(timeout, "Loop.AcceptAsync")).AsValueTask();

    /// <summary><see cref="ConnectAsync(int, EndPoint, CancellationToken)"/> with a deadline (a connect timeout); see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract. After a
    /// timeout the socket's connection attempt is abandoned: close the socket.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="socket"/> is negative.</exception>
    public ValueTask ConnectAsync(int socket, EndPoint remote, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return StartIo(AsyncKind.Connect, socket, default, default, remote, cancellationToken, "Loop.ConnectAsync", null, TimeoutNsOf(timeout, "Loop.ConnectAsync")).AsVoidValueTask();
    }

    /// <summary>
    /// <see cref="ReadAtAsync(int, Memory{byte}, long, CancellationToken)"/> with a deadline. A file read the kernel (or
    /// a reactor worker) has not started when the deadline passes times out; one already running cannot be interrupted
    /// (a regular-file read in the block layer, a worker inside pread) and delivers its real result, as with
    /// cancellation. See <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the rest.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/>, <paramref name="fd"/> or
    /// <paramref name="offset"/> is negative.</exception>
    public ValueTask<int> ReadAtAsync(int fd, Memory<byte> buffer, long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
        => ReadAtCore(fd, buffer, offset, cancellationToken, "Loop.ReadAtAsync", null, TimeoutNsOf(timeout, "Loop.ReadAtAsync")).AsValueTask();

    /// <summary><see cref="WriteAtAsync(int, ReadOnlyMemory{byte}, long, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAtAsync(int, Memory{byte}, long, TimeSpan, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/>, <paramref name="fd"/> or
    /// <paramref name="offset"/> is negative.</exception>
    public ValueTask<int> WriteAtAsync(int fd, ReadOnlyMemory<byte> buffer, long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
        => WriteAtCore(fd, buffer, offset, cancellationToken, "Loop.WriteAtAsync", null, TimeoutNsOf(timeout, "Loop.WriteAtAsync")).AsValueTask();

    /// <summary><see cref="SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/> with a deadline; see
    /// <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="socket"/> is negative.</exception>
    public ValueTask<int> SendToAsync(int socket, ReadOnlyMemory<byte> buffer, EndPoint remote, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        const string call = "Loop.SendToAsync";
        CheckRemote(remote, call);
        long ns = TimeoutNsOf(timeout, call);
        return StartMessageIo(AsyncKind.SendMessage, socket, new MessageRequest(default, buffer, remote, default, default, false),
            cancellationToken, call, null, ns).AsValueTask();
    }

    /// <summary><see cref="ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/> with a deadline (e.g. a DNS-style
    /// request/response wait); see <see cref="ReadAsync(int, Memory{byte}, TimeSpan, CancellationToken)"/> for the
    /// deadline's contract.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> or <paramref name="socket"/> is negative.</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(int socket, Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        const string call = "Loop.ReceiveFromAsync";
        long ns = TimeoutNsOf(timeout, call);
        return AsReceiveFrom(StartMessageIo(AsyncKind.ReceiveMessage, socket, new MessageRequest(buffer, default, null, default, default, true),
            cancellationToken, call, null, ns));
    }

    // ------------------------------------------------------------------ the mechanism, once

    /// <summary>A timeout argument in nanoseconds: <see cref="AsyncOp.NoTimeout"/> for <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    internal static long TimeoutNsOf(TimeSpan timeout, string call)
    {
        if (timeout == Timeout.InfiniteTimeSpan) return AsyncOp.NoTimeout;
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"{call}: the timeout must not be negative (Timeout.InfiniteTimeSpan for none).");
        return TicksToNs(timeout.Ticks);
    }

    /// <summary><see cref="StartIo(AsyncKind, int, Memory{byte}, ReadOnlyMemory{byte}, EndPoint?, CancellationToken, string, LoopFd?)"/>
    /// with a deadline (<paramref name="timeoutNs"/> &lt; 0: none).</summary>
    internal IoStart StartIo(AsyncKind kind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer, EndPoint? remote,
        CancellationToken token, string call, LoopFd? via, long timeoutNs)
    {
        if (!TryBeginIo(kind, fd, token, call, via, out var state, out var early)) return early;
        _startingTimeoutNs = timeoutNs;
        IoStart started;
        try { started = Driver.Start(state, kind, buffer, constBuffer, remote, token); }
        finally { _startingTimeoutNs = AsyncOp.NoTimeout; }
        ArmDeadline(started.Op);
        return started;
    }

    /// <summary><see cref="StartMessageIo(AsyncKind, int, in MessageRequest, CancellationToken, string, LoopFd?)"/> with a
    /// deadline.</summary>
    internal IoStart StartMessageIo(AsyncKind kind, int fd, in MessageRequest request, CancellationToken token, string call, LoopFd? via, long timeoutNs)
    {
        if (!TryBeginIo(kind, fd, token, call, via, out var state, out var early)) return early;
        _startingTimeoutNs = timeoutNs;
        IoStart started;
        try { started = Driver.StartMessage(state, kind, request, token); }
        finally { _startingTimeoutNs = AsyncOp.NoTimeout; }
        ArmDeadline(started.Op);
        return started;
    }

    /// <summary>
    /// Enforces a started operation's deadline with a loop timer, unless it completed at once, has none, or the driver
    /// linked it into the kernel with the operation. The timer belongs to the pooled awaitable: created once, restarted
    /// per use, disarmed when the operation settles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ArmDeadline(AsyncOp? op)
    {
        if (op is null || op.TimeoutNs < 0 || !op.IsPending || Driver.LinksDeadlines) return;
        var delay = TimeSpan.FromTicks(Math.Min(op.TimeoutNs / 100, TimeSpan.MaxValue.Ticks));
        if (op.DeadlineTimer is null) op.DeadlineTimer = After(delay, op, s_deadlineExpired);
        else op.DeadlineTimer.Restart(delay);
    }

    /// <summary>The loop timer of a deadline fired: the operation is cancelled and settles as timed out (or with its real
    /// result, if the kernel or a worker already has it).</summary>
    private void ExpireDeadline(AsyncOp op)
    {
        if (!op.IsPending || op.TimeoutNs < 0) return;
        op.TimedOut = true;
        Driver.Cancel(op);
    }

    /// <summary>The exception of an operation whose deadline expired, named after its syscall like its other errors.</summary>
    internal static LinuxEventTimeoutException TimeoutError(AsyncOp op)
    {
        string call = op.Kind switch
        {
            AsyncKind.File => Files.FileErrors.Syscall(op.File!),
            AsyncKind.Connect => $"connect(fd={op.Fd}, {op.Remote})",
            AsyncKind.SendMessage when op.Remote is { } remote => $"sendmsg(fd={op.Fd}, to {remote})",
            _ => IoNames.Call(IoNames.Of(op.Kind), op.Fd),
        };
        return new LinuxEventTimeoutException(call, TimeSpan.FromTicks(op.TimeoutNs / 100));
    }
}
