using System.Net;
using LinuxEvent.Proactor;

namespace LinuxEvent;

/// <summary>
/// Controls of a <see cref="ProactorLoop"/> created with <see cref="ProactorBackend.Fake"/>: script completions and
/// move the virtual clock. These calls settle operations or move time; callbacks run on the next
/// <see cref="Loop.RunOnce"/>/<see cref="Loop.Run()"/>, in settle order (timeouts and timers: deadline, then
/// scheduling order). The same script always yields the same callback order.
/// </summary>
/// <remarks>
/// When the loop would sleep, the virtual clock jumps instead (to the next deadline, or by the RunOnce timeout).
/// Nop operations complete by themselves; every other operation waits for the script.
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

    /// <summary>The virtual CLOCK_MONOTONIC in nanoseconds (starts at 1 s).</summary>
    public long NowNanoseconds => _backend.ReadClock();

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
}
