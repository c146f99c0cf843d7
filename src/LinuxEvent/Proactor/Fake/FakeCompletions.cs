using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;
using LinuxEvent.Proactor;

namespace LinuxEvent;

/// <summary>
/// Controls of a <see cref="ProactorLoop"/> created with <see cref="ProactorBackend.Fake"/>: script completions and
/// move the virtual clock. These calls settle operations or move time; callbacks run on the next
/// <see cref="Loop.RunOnce"/>/<see cref="Loop.Run()"/>, in settle order (timeouts and timers: deadline, then
/// scheduling order). The same script always yields the same callback order.
/// </summary>
/// <remarks>
/// <para>When the loop would sleep, the virtual clock jumps instead (to the next deadline, or by the RunOnce timeout).
/// Nop operations complete by themselves; every other operation waits for the script.</para>
/// <para><b>Content.</b> A script sees what each pending operation carries: the bytes a send or write offers
/// (<see cref="GetWriteBuffer"/>, so a test asserts what a server replied), the room a receive has
/// (<see cref="GetBufferLength"/>), the address of a connect, the direction of a shutdown.</para>
/// <para><b>A simulated kernel</b> subscribes to <see cref="Submitted"/> (and, with <see cref="FakeCancelMode.Scripted"/>
/// cancellation, <see cref="CancelRequested"/>) and settles operations as its model of the world dictates.</para>
/// </remarks>
public sealed partial class FakeCompletions
{
    private readonly FakeProactorBackend _backend;
    private readonly ProactorLoop _loop;

    internal FakeCompletions(FakeProactorBackend backend, ProactorLoop loop)
    {
        _backend = backend;
        _loop = loop;
    }

    /// <summary>Operations submitted and not yet settled, in submission order.</summary>
    public IReadOnlyList<Operation> Pending => _backend.Pending;

    /// <summary>The virtual CLOCK_MONOTONIC in nanoseconds (starts at 1 s, or the shared <see cref="FakeClock"/>'s time).</summary>
    public long NowNanoseconds => _backend.ReadClock();

    /// <summary>The earliest deadline of the loop's timers, timeouts included (virtual nanoseconds), or null when none
    /// is scheduled: how far a driver of several loops on one <see cref="FakeClock"/> may move the clock before this
    /// loop has work.</summary>
    public long? NextTimerDeadline => _loop.NextTimerDeadline;

    /// <summary>
    /// Called on the submitting thread each time an operation reaches the fake (submitted, resubmitted, or re-armed
    /// by the loop after ENOBUFS or a CQ overflow), after it is listed in <see cref="Pending"/>: the hook of a
    /// simulated kernel. It may settle the operation at once (its callback still runs from the next dispatch, never
    /// inline) or later. Null by default.
    /// </summary>
    public Action<Operation>? Submitted
    {
        get => _backend.Submitted;
        set => _backend.Submitted = value;
    }

    /// <summary>
    /// How <see cref="Operation.Cancel"/> is answered: <see cref="FakeCancelMode.Immediate"/> (the default: settled as
    /// Cancelled at once) or <see cref="FakeCancelMode.Scripted"/> (a request the script resolves, as the race with the
    /// kernel really goes). Change it between scripts, not while cancel requests are unanswered.
    /// </summary>
    /// <exception cref="InvalidOperationException">Switching to Immediate while cancel requests are unanswered.</exception>
    public FakeCancelMode CancelMode
    {
        get => _backend.CancelMode;
        set
        {
            if (value == FakeCancelMode.Immediate && _backend.CancelRequests.Count > 0)
                throw new InvalidOperationException($"FakeCompletions.CancelMode: {_backend.CancelRequests.Count} cancel request(s) are unanswered; resolve them first.");
            _backend.CancelMode = value;
        }
    }

    /// <summary>Operations whose cancellation was requested (<see cref="FakeCancelMode.Scripted"/>) and not yet resolved,
    /// in request order. Each is still <see cref="OperationState.Pending"/> and in <see cref="Pending"/>.</summary>
    public IReadOnlyList<Operation> CancelRequests => _backend.CancelRequests;

    /// <summary>Called when <see cref="Operation.Cancel"/> makes a request in <see cref="FakeCancelMode.Scripted"/> mode
    /// (from inside that call: answer later, not inline). Null by default.</summary>
    public Action<Operation>? CancelRequested
    {
        get => _backend.CancelRequested;
        set => _backend.CancelRequested = value;
    }

    /// <summary>
    /// Completion queue entries (0, the default: unlimited). With N, one dispatch delivers at most N settlements and
    /// the rest wait, in order, for the following iterations, as CQEs the kernel keeps in its overflow list until the
    /// loop flushes them. Nothing is lost or reordered; <see cref="OverflowMultishot"/> scripts the other effect of an
    /// overflow.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int CompletionQueueCapacity
    {
        get => _backend.CompletionQueueCapacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _backend.CompletionQueueCapacity = value;
        }
    }

    /// <summary>Moves the virtual clock; due timeouts and timers settle/fire on the next iteration.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "FakeCompletions.Advance: time only moves forward.");
        _backend.AdvanceClock(Loop.TicksToNs(by.Ticks));
        _loop.OnWaitReturned();
    }

    /// <summary>
    /// Completes <paramref name="op"/> with <paramref name="result"/> (bytes transferred, the new fd of an accept, 0).
    /// Ending a multishot operation: result 0 = the stream ended normally.
    /// </summary>
    /// <exception cref="InvalidOperationException">The operation is unknown to this loop or already settled.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Negative result, or more bytes than the operation asked for.</exception>
    public void Complete(Operation op, int result)
    {
        CheckPending(op, nameof(Complete));
        if (result < 0) throw new ArgumentOutOfRangeException(nameof(result), result, "FakeCompletions.Complete: use Fail for errors.");
        if (op.Kind == OperationKind.ReceiveMessage)
            throw new ArgumentException("FakeCompletions.Complete: a ReceiveMessage needs a datagram and its sender; use CompleteReceiveFrom or CompleteReceiveMessage.", nameof(op));
        if (op.Kind is OperationKind.Read or OperationKind.Receive or OperationKind.Write or OperationKind.Send or OperationKind.Splice
            or OperationKind.SendMessage or OperationKind.ReadV or OperationKind.WriteV && result > op.Length)
            throw new ArgumentOutOfRangeException(nameof(result), result, $"FakeCompletions.Complete: the {op.Kind} asked for at most {op.Length} bytes.");
        _backend.Resolve(op, result);
    }

    /// <summary>Completes a read (also a vectored <see cref="OperationKind.ReadV"/>, filled in order) with
    /// <paramref name="data"/> copied into its buffer (empty = EOF).</summary>
    /// <exception cref="ArgumentException">More data than the read asked for, or the operation is not a read.</exception>
    public void CompleteRead(Operation op, ReadOnlySpan<byte> data) => CompleteInto(op, data, OperationKind.Read, nameof(CompleteRead));

    /// <summary>Completes a receive with <paramref name="data"/> copied into its buffer (empty = peer shut down).</summary>
    /// <exception cref="ArgumentException">More data than the receive asked for, or the operation is not a receive.</exception>
    public void CompleteReceive(Operation op, ReadOnlySpan<byte> data) => CompleteInto(op, data, OperationKind.Receive, nameof(CompleteReceive));

    private void CompleteInto(Operation op, ReadOnlySpan<byte> data, OperationKind kind, string call)
    {
        CheckPending(op, call);
        bool vector = kind == OperationKind.Read && op.Kind == OperationKind.ReadV;
        if (op.Kind != kind && !vector) throw new ArgumentException($"FakeCompletions.{call}: the operation is a {op.Kind}, not a {kind}.", nameof(op));
        if (data.Length > op.Length) throw new ArgumentException($"FakeCompletions.{call}: {data.Length} bytes given but the {kind} asked for at most {op.Length}.", nameof(data));
        if (vector) LinuxEvent.Files.FakeFileData.Scatter(op.File!, data);
        else data.CopyTo(op.Buffer.Span);
        _backend.Resolve(op, data.Length);
    }

    /// <summary>
    /// Completes a pending ReceiveMessage (<see cref="Loop.ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/>, <see cref="Loop.ReceiveMessageAsync"/>)
    /// with one datagram from <paramref name="from"/> (null: an unnamed sender). Like the kernel, a datagram longer than
    /// the buffer is truncated and flagged MSG_TRUNC (so ReceiveFromAsync fails with
    /// <see cref="DatagramTruncatedException"/>), and an empty one is a zero-length datagram.
    /// </summary>
    /// <exception cref="ArgumentException">The operation is not a ReceiveMessage.</exception>
    public void CompleteReceiveFrom(Operation op, ReadOnlySpan<byte> data, EndPoint? from) => CompleteReceiveMessage(op, data, from, default);

    /// <summary>
    /// Completes a pending ReceiveMessage with one datagram and SCM_RIGHTS <paramref name="fds"/>. Ownership of the fds
    /// passes to the fake when this call succeeds (if it throws, they stay the caller's): the ones the receiver has room for are handed to it (it must close them), the
    /// others are closed here and the result is flagged <see cref="ReceiveMessageFlags.ControlTruncated"/>, as the
    /// kernel does.
    /// </summary>
    /// <exception cref="ArgumentException">The operation is not a ReceiveMessage.</exception>
    public void CompleteReceiveMessage(Operation op, ReadOnlySpan<byte> data, EndPoint? from, ReadOnlySpan<int> fds)
    {
        CheckPending(op, nameof(CompleteReceiveMessage));
        if (op.Kind != OperationKind.ReceiveMessage)
            throw new ArgumentException($"FakeCompletions.CompleteReceiveMessage: the operation is a {op.Kind}, not a ReceiveMessage.", nameof(op));
        _backend.Resolve(op, Datagrams.FakeMessageKernel.ReceiveInto(op, data, from, fds));
    }

    /// <summary>
    /// What a pending SendMessage (<see cref="Loop.SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/>, <see cref="Loop.SendMessageAsync"/>) would put on the
    /// wire: its bytes, its destination and its SCM_RIGHTS fds. The operation stays pending; settle it with
    /// <see cref="Complete"/> (bytes sent) or <see cref="Fail"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The operation is not a SendMessage.</exception>
    public FakeDatagram GetSentMessage(Operation op)
    {
        CheckPending(op, nameof(GetSentMessage));
        if (op.Kind != OperationKind.SendMessage)
            throw new ArgumentException($"FakeCompletions.GetSentMessage: the operation is a {op.Kind}, not a SendMessage.", nameof(op));
        return Datagrams.FakeMessageKernel.SentBy(op);
    }

    /// <summary>Fails <paramref name="op"/> with <paramref name="errno"/> (positive, e.g. 104 for ECONNRESET).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="errno"/> is not positive.</exception>
    public void Fail(Operation op, int errno)
    {
        CheckPending(op, nameof(Fail));
        if (errno <= 0) throw new ArgumentOutOfRangeException(nameof(errno), errno, "FakeCompletions.Fail: errno must be positive.");
        _backend.Resolve(op, -errno);
    }

    /// <summary>Delivers one accepted connection (<paramref name="fd"/>) on a pending multishot accept.</summary>
    public void DeliverAccepted(Operation op, int fd)
    {
        CheckPending(op, nameof(DeliverAccepted));
        if (op.Kind != OperationKind.AcceptMultishot) throw new ArgumentException($"FakeCompletions.DeliverAccepted: the operation is a {op.Kind}.", nameof(op));
        _backend.QueueAccepted(op, fd);
    }

    /// <summary>Delivers one chunk on a pending multishot receive.</summary>
    /// <exception cref="ArgumentException">The chunk is larger than the pool's buffers.</exception>
    public void DeliverReceived(Operation op, ReadOnlySpan<byte> data)
    {
        CheckPending(op, nameof(DeliverReceived));
        if (op.Kind != OperationKind.ReceiveMultishot) throw new ArgumentException($"FakeCompletions.DeliverReceived: the operation is a {op.Kind}.", nameof(op));
        if (data.Length == 0 || data.Length > op.BufferPool!.BufferSize)
            throw new ArgumentException($"FakeCompletions.DeliverReceived: a chunk is 1..{op.BufferPool!.BufferSize} bytes (use Complete(op, 0) for EOF).", nameof(data));
        _backend.QueueReceived(op, data.ToArray());
    }

    /// <summary>The cancel won the race: <paramref name="op"/>, whose cancellation was requested, settles as Cancelled
    /// (its callback at the next dispatch).</summary>
    /// <exception cref="InvalidOperationException">No cancel request of <paramref name="op"/> is unanswered.</exception>
    public void ConfirmCancel(Operation op)
    {
        CheckCancelRequested(op, nameof(ConfirmCancel));
        _backend.ConfirmCancel(op);
    }

    /// <summary>
    /// The cancel request got -EALREADY: the operation was already running and cannot be interrupted, so it completes
    /// normally; complete (or fail) it later. It stays Pending, and another <see cref="Operation.Cancel"/> returns false
    /// (one request per operation).
    /// </summary>
    /// <exception cref="InvalidOperationException">No cancel request of <paramref name="op"/> is unanswered.</exception>
    public void RejectCancel(Operation op)
    {
        CheckCancelRequested(op, nameof(RejectCancel));
        _backend.RejectCancel(op);
    }

    /// <summary>
    /// The buffer group of a pending multishot receive ran dry (ENOBUFS): the kernel ends the request. As on io_uring
    /// the loop re-arms it at once, invisibly (it stays Pending, no callback runs, <see cref="Submitted"/> sees the
    /// re-arm), unless its cancellation was requested: then it settles as Cancelled.
    /// </summary>
    /// <exception cref="ArgumentException">Not a multishot receive.</exception>
    public void FailNoBuffers(Operation op)
    {
        CheckPending(op, nameof(FailNoBuffers));
        if (op.Kind != OperationKind.ReceiveMultishot) throw new ArgumentException($"FakeCompletions.FailNoBuffers: the operation is a {op.Kind}.", nameof(op));
        _backend.NoBuffers(op);
    }

    /// <summary>
    /// The completion queue overflowed: the kernel could not post the next item of a pending multishot operation, so it
    /// ended it with a final completion without IORING_CQE_F_MORE, after the items already delivered
    /// (<see cref="DeliverAccepted"/>, <see cref="DeliverReceived"/>), which are handed out first. As on io_uring a
    /// multishot receive is re-armed invisibly (Cancelled if a cancel was requested), and a multishot accept settles
    /// Completed with result 0, so that its owner re-arms it. Applied at the next dispatch, in order.
    /// </summary>
    /// <exception cref="ArgumentException">Not a multishot operation.</exception>
    public void OverflowMultishot(Operation op)
    {
        CheckPending(op, nameof(OverflowMultishot));
        if (op.Kind is not (OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot))
            throw new ArgumentException($"FakeCompletions.OverflowMultishot: the operation is a {op.Kind}, not a multishot operation.", nameof(op));
        _backend.QueueOverflow(op);
    }

    // ------------------------------------------------------------------ what a pending operation carries

    /// <summary>The bytes a pending Send or Write offers the kernel (what a server is replying), valid until it settles.</summary>
    /// <exception cref="ArgumentException">Not a Send or Write.</exception>
    public ReadOnlyMemory<byte> GetWriteBuffer(Operation op)
    {
        CheckPending(op, nameof(GetWriteBuffer));
        if (op.Kind is not (OperationKind.Send or OperationKind.Write))
            throw new ArgumentException($"FakeCompletions.GetWriteBuffer: the operation is a {op.Kind}, not a Send or Write.", nameof(op));
        return op.ConstBuffer;
    }

    /// <summary>How many bytes a pending Read or Receive may take, a Send or Write offers, or a Splice may move; for a
    /// multishot receive, the size of one buffer of its pool (the largest chunk <see cref="DeliverReceived"/> takes).</summary>
    /// <exception cref="ArgumentException">An operation that carries no bytes (accept, connect, timeout...).</exception>
    public int GetBufferLength(Operation op)
    {
        CheckPending(op, nameof(GetBufferLength));
        return op.Kind switch
        {
            OperationKind.Read or OperationKind.Receive or OperationKind.Write or OperationKind.Send or OperationKind.Splice => op.Length,
            OperationKind.ReceiveMultishot => op.BufferPool!.BufferSize,
            _ => throw new ArgumentException($"FakeCompletions.GetBufferLength: a {op.Kind} carries no bytes.", nameof(op)),
        };
    }

    /// <summary>The address a pending Connect connects to.</summary>
    /// <exception cref="ArgumentException">Not a Connect.</exception>
    public EndPoint? GetConnectAddress(Operation op)
    {
        CheckPending(op, nameof(GetConnectAddress));
        if (op.Kind != OperationKind.Connect) throw new ArgumentException($"FakeCompletions.GetConnectAddress: the operation is a {op.Kind}, not a Connect.", nameof(op));
        return op.SockAddr is null ? null : SockAddr.Read(op.SockAddr, op.SockAddrLength);
    }

    /// <summary>The direction a pending Shutdown shuts.</summary>
    /// <exception cref="ArgumentException">Not a Shutdown.</exception>
    public SocketShutdown GetShutdownDirection(Operation op)
    {
        CheckPending(op, nameof(GetShutdownDirection));
        if (op.Kind != OperationKind.Shutdown) throw new ArgumentException($"FakeCompletions.GetShutdownDirection: the operation is a {op.Kind}, not a Shutdown.", nameof(op));
        return op.Length switch
        {
            Libc.SHUT_RD => SocketShutdown.Receive,
            Libc.SHUT_WR => SocketShutdown.Send,
            _ => SocketShutdown.Both,
        };
    }

    /// <summary>
    /// Runs iterations with a zero wait (the virtual clock does not move) until one runs no callback and nothing is
    /// queued; returns the callbacks run.
    /// </summary>
    /// <exception cref="InvalidOperationException">Still busy after <paramref name="maxIterations"/> iterations.</exception>
    public int RunUntilIdle(int maxIterations = 100_000)
        => _loop.RunUntilIdle(maxIterations, "FakeCompletions.RunUntilIdle");

    private void CheckPending(Operation op, string call)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (_loop.IsDisposed) throw new ObjectDisposedException(nameof(ProactorLoop));
        if (!ReferenceEquals(op.Loop, _loop)) throw new InvalidOperationException($"FakeCompletions.{call}: the operation belongs to another loop.");
        if (op.State != OperationState.Pending) throw new InvalidOperationException($"FakeCompletions.{call}: the {op.Kind} operation already settled ({op.State}).");
        if (!_backend.Pending.Contains(op)) throw new InvalidOperationException($"FakeCompletions.{call}: the {op.Kind} operation is not pending on this fake backend.");
        if (op.IsWaitingForChain)
            throw new InvalidOperationException($"FakeCompletions.{call}: the {op.Kind} operation is a chain step whose previous step is still pending: the kernel has not started it yet (settle the steps in order).");
    }

    private void CheckCancelRequested(Operation op, string call)
    {
        CheckPending(op, call);
        if (!_backend.CancelRequests.Contains(op)) throw new InvalidOperationException($"FakeCompletions.{call}: no cancel request of the {op.Kind} operation is unanswered.");
    }
}
