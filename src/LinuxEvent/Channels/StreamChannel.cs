namespace LinuxEvent;

/// <summary>
/// A full-duplex byte channel over one connected fd (TCP or Unix socket, pipe, tty), implemented by the loop's model:
/// the seam that LinuxEvent.Net's <c>LoopStream</c> (and any other stream component: a TLS adapter, a transport) is
/// written on, once, for both models. Create with <see cref="Loop.CreateStreamChannel"/>. Loop-thread only.
/// </summary>
/// <remarks>
/// <para><b>Reading.</b> While <see cref="SetReading"/> is on, received bytes go to
/// <see cref="IStreamChannelHandler.OnReceived"/>, at most <see cref="ReceiveBufferSize"/> bytes per call, in a span
/// the owner must consume or copy before it returns. Reactor: one level-triggered watcher with read interest, a few
/// reads per readiness report, into the loop's one receive buffer. Proactor, on a socket: one multishot receive on the
/// loop's shared provided-buffer ring (<see cref="ProactorOptions.StreamReceive"/>), each buffer given back to the
/// kernel right after its delivery; on a pipe or tty, or a kernel without provided-buffer rings: one receive in flight
/// into a buffer of the channel's own. Both are resubmitted without allocating. Turning reading off takes effect at
/// once on the reactor; on the proactor the receive in flight is cancelled, and bytes it raced in with are still
/// delivered (nothing is lost), so an owner that paused must queue what arrives.</para>
/// <para><b>Memory.</b> An idle channel holds no buffer: none for receiving (except the per-stream fallback's), and an
/// output queue only while bytes wait for the kernel (the proactor takes its send operation and queues from the loop's
/// pools while sending, and gives them back once everything was sent).</para>
/// <para><b>Writing.</b> <see cref="Write"/> never blocks and never calls the handler inline. Reactor: a write made on
/// the loop thread while the loop runs is queued, and the queue goes out in one send(2) at the end of the iteration
/// (<see cref="ReactorOptions.CoalesceWrites"/>); otherwise, with nothing queued, it tries send(2) at once; either way
/// only what the kernel did not take waits for writability. Proactor: it queues and submits one
/// send at a time; the bytes in flight are never moved. Queued bytes go out in order, partial writes resuming at the
/// right offset; <see cref="IStreamChannelHandler.OnSent"/> reports progress from dispatch.</para>
/// <para><b>Errors</b> (EINTR is retried, EAGAIN waits for readiness) reach <see cref="IStreamChannelHandler.OnFailed"/>
/// once, from dispatch; one detected inside <see cref="Write"/> is reported from the deferred phase
/// (<see cref="HasPendingError"/> is true meanwhile).</para>
/// <para><b>Closing.</b> <see cref="Close"/> stops all I/O (cancelling kernel operations in flight, and handing queued
/// requests to the kernel before the fd is closed) and closes the fd if asked. <see cref="ReleaseBuffers"/> returns
/// the buffers to the pool, at once or when the kernel's last operation on them settles. The loop's disposal does
/// not close a channel: its owner (a <see cref="LoopComponent"/>) does.</para>
/// </remarks>
public abstract class StreamChannel
{
    private static readonly Action<object?> s_reportPending = static s => ((StreamChannel)s!).ReportPendingError();
    private int _pendingErrno;
    private string? _pendingCall;

    private protected StreamChannel(Loop loop, int fd, bool isSocket, int receiveBufferSize, IStreamChannelHandler handler)
    {
        Loop = loop;
        Fd = fd;
        IsSocket = isSocket;
        ReceiveBufferSize = receiveBufferSize;
        Handler = handler;
    }

    /// <summary>The loop.</summary>
    public Loop Loop { get; }

    /// <summary>The fd.</summary>
    public int Fd { get; }

    /// <summary>True for a socket (recv/send, shutdown); false for a pipe or tty (read/write).</summary>
    public bool IsSocket { get; }

    /// <summary>The most bytes one <see cref="IStreamChannelHandler.OnReceived"/> call delivers (the size of each read
    /// on the reactor, and of the per-stream receive buffer where the proactor uses one).</summary>
    public int ReceiveBufferSize { get; }

    /// <summary>True while reading is on.</summary>
    public bool IsReading { get; private protected set; }

    /// <summary>True once <see cref="Close"/> ran.</summary>
    public bool IsClosed { get; private protected set; }

    /// <summary>True between an error found inside <see cref="Write"/> and its report from the deferred phase.</summary>
    public bool HasPendingError { get; private set; }

    /// <summary>Bytes the kernel accepted so far (also counted in the loop's <see cref="LoopMetrics.BytesSent"/>).</summary>
    public long BytesSent
    {
        get => _bytesSent;
        private protected set
        {
            Loop.Metrics.RecordSent(value - _bytesSent);
            _bytesSent = value;
        }
    }

    private long _bytesSent;

    /// <summary>Bytes written and not yet accepted by the kernel (queued, plus in flight on the proactor).</summary>
    public int QueuedBytes => (_output?.Length ?? 0) + InFlightBytes;

    /// <summary>
    /// True while a kernel operation of this channel has not settled (proactor: its receive, possibly being cancelled,
    /// or its send; the reactor's I/O is plain syscalls, so never). An owner that hands the fd to someone else waits
    /// for this to turn false: a receive still in flight could complete with bytes the new owner would never see.
    /// </summary>
    public virtual bool HasOperationsInFlight => false;

    private protected IStreamChannelHandler Handler { get; }

    private ByteQueue? _output;

    /// <summary>Output not yet handed to the kernel, created on first use: a connection that never has to queue (the
    /// reactor sends at once when it can) holds none.</summary>
    private protected ByteQueue Output => _output ??= NewQueue();

    /// <summary>The output queue if there is one; a model may give it back while idle (set null).</summary>
    private protected ByteQueue? OutputIfAny { get => _output; set => _output = value; }

    /// <summary>A new, empty queue (the proactor takes one from its loop's pool).</summary>
    private protected virtual ByteQueue NewQueue() => new();

    /// <summary>Bytes handed to an in-flight kernel send and not yet confirmed.</summary>
    private protected virtual int InFlightBytes => 0;

    /// <summary>Bytes of buffers the channel holds now (output queues, a per-stream receive buffer): 0 for an idle
    /// connection. For tests and diagnostics.</summary>
    internal abstract int HeldBufferBytes { get; }

    /// <summary>Turns reading on or off (idempotent).</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void SetReading(bool on)
    {
        Loop.CheckLoopThread("StreamChannel.SetReading");
        SetReadingCore(on);
    }

    /// <summary>Writes (or queues) <paramref name="data"/>. Ignored once closed or while an error is pending.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        Loop.CheckLoopThread("StreamChannel.Write");
        if (IsClosed || HasPendingError || data.IsEmpty) return;
        WriteCore(data);
    }

    private protected abstract void SetReadingCore(bool on);

    private protected abstract void WriteCore(ReadOnlySpan<byte> data);

    /// <summary>
    /// Space for <paramref name="length"/> bytes at the end of the output queue, to encode into directly (a codec's
    /// frame, with no intermediate copy); <see cref="CommitWrite"/> then sends it.
    /// </summary>
    public Span<byte> GetWriteSpan(int length)
    {
        Loop.CheckLoopThread("StreamChannel.GetWriteSpan");
        return Output.Reserve(length);
    }

    /// <summary>Queues the <paramref name="length"/> bytes written into <see cref="GetWriteSpan"/> and starts writing.</summary>
    public void CommitWrite(int length)
    {
        Loop.CheckLoopThread("StreamChannel.CommitWrite");
        Output.Commit(length);
        if (!IsClosed && !HasPendingError) Kick();
    }

    /// <summary>Starts writing what is queued if nothing is being written.</summary>
    private protected abstract void Kick();

    /// <summary>Stops all I/O and closes the fd if <paramref name="closeFd"/>. Buffers a kernel operation may still use
    /// are kept until it settles. Idempotent.</summary>
    public void Close(bool closeFd)
    {
        if (IsClosed) return;
        Loop.CheckLoopThread("StreamChannel.Close");
        IsClosed = true;
        CloseCore(closeFd);
    }

    private protected abstract void CloseCore(bool closeFd);

    /// <summary>Returns the buffers to the pool (now, or when the kernel's last operation on them settles). Call once
    /// nothing holds a span of them any more, after <see cref="Close"/>.</summary>
    public abstract void ReleaseBuffers();

    /// <summary>An error found inside a call the owner made: reported from the deferred phase, never inline.</summary>
    private protected void FailDeferred(int errno, string call)
    {
        if (HasPendingError || IsClosed) return;
        HasPendingError = true;
        _pendingErrno = errno;
        _pendingCall = call;
        Loop.Defer(s_reportPending, this);
    }

    private void ReportPendingError()
    {
        HasPendingError = false;
        if (!IsClosed) Handler.OnFailed(_pendingErrno, _pendingCall!);
    }

    /// <summary>Closes an fd, ignoring EBADF (the owner closed it behind the channel's back).</summary>
    private protected static void CloseFd(int fd)
    {
        try { Posix.Close(fd); } catch (LinuxEventException) { }
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}(fd={Fd}, {(IsSocket ? "socket" : "file")}{(IsClosed ? ", closed" : "")})";
}
