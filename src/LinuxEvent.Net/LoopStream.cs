namespace LinuxEvent.Net;

/// <summary>
/// A buffered, full-duplex stream over one connected fd (TCP or Unix socket, pipe, tty), driven by a loop of either
/// model, with callback and async forms. Loop-thread only.
/// </summary>
/// <remarks>
/// <para><b>Models.</b> On a <see cref="ReactorLoop"/> the stream uses one level-triggered <see cref="Watcher"/>: read
/// interest while reading is wanted, write interest only while output is queued; it reads into the loop's one receive
/// buffer. On a <see cref="ProactorLoop"/> it keeps one multishot receive armed on the loop's shared ring of provided
/// buffers while reading is wanted (one receive into a buffer of its own on kernels without them, see
/// <see cref="ProactorOptions.StreamReceive"/>) and one send at a time, all resubmitted without allocating.</para>
/// <para><b>Memory.</b> An idle stream holds no buffer: received bytes are delivered from the loop's buffer (or
/// ring), and only what the reader has not consumed yet is kept (a partial frame, the rest of a chunk after a pause,
/// async read-ahead), in an array rented from the shared array pool and given back as soon as it is consumed; the
/// output queue likewise holds an array only while bytes wait for the kernel. What remains per connection is this
/// object and the model's channel (about 400 bytes; docs/design.md itemizes them).</para>
/// <para><b>Reading.</b> Callback mode: set <see cref="OnData"/>, or <see cref="OnInput"/> to consume input partly, or
/// <see cref="OnMessage"/> with a codec, and call <see cref="Start"/>. Async mode: call <see cref="ReadAsync"/> /
/// <see cref="ReadMessageAsync"/>. A stream uses one mode for its life. <see cref="PauseRead"/> stops delivery at once — even in the middle of a received chunk, whose rest is kept and
/// delivered after <see cref="ResumeRead"/>. Peer EOF is reported by <see cref="OnEnd"/> after all input before it.</para>
/// <para><b>Writing.</b> <see cref="Write"/> never blocks: on the reactor, writes made from the loop's callbacks are
/// coalesced into one send(2) per stream at the end of the iteration (<see cref="ReactorOptions.CoalesceWrites"/>;
/// outside the loop's run, with nothing queued, it tries send(2) at once); on the proactor it submits a send; whatever the kernel does not take is queued and written in order,
/// partial writes resuming at the right offset. At <see cref="LoopStreamOptions.HighWatermark"/> queued bytes the
/// stream is <see cref="IsWriteBlocked"/> (Write returns false; the data is still queued); when the queue falls to
/// <see cref="LoopStreamOptions.LowWatermark"/> it unblocks and <see cref="OnDrain"/> runs. A write that would take the
/// queue past <see cref="LoopStreamOptions.MaxQueuedBytes"/> closes the stream instead
/// (<see cref="CloseReason.WriteQueueOverflow"/>).</para>
/// <para><b>Errors.</b> EINTR is retried and EAGAIN waits for readiness; any other errno goes to <see cref="OnError"/>
/// (a <see cref="LinuxEventSocketException"/> on a socket, a <see cref="LinuxEventException"/> on a pipe, naming the call
/// and errno) and then the stream closes with
/// <see cref="CloseReason.Error"/>. A codec rejection closes it with <see cref="CloseReason.CodecError"/>, at once, or
/// after a reply written by <see cref="OnCodecError"/> has drained. One exception
/// in callback mode: a send that fails because the peer reset the connection (ECONNRESET, EPIPE) ends writing, but what
/// the peer sent before the reset is still read and delivered first (the kernel keeps it queued); then OnError runs and
/// the stream closes with <see cref="CloseReason.Error"/>. Pausing reading or <see cref="CloseAfterDrain"/> meanwhile
/// ends that wait at once.</para>
/// <para><b>Callbacks</b> run from the loop's dispatch, never inline inside a call you make on the stream: an error
/// detected inside <see cref="Write"/> is reported from the next deferred phase. A throwing callback goes to the loop's
/// <see cref="Loop.UnhandledException"/>; the stream carries on. <see cref="OnClose"/> runs exactly once, after
/// which no other callback of the stream runs.</para>
/// <para><b>The fd</b> belongs to the stream when <see cref="LoopStreamOptions.OwnsFd"/> (the default): it is closed
/// when the stream closes. It must be non-blocking.</para>
/// <para><b>Loop disposal</b> closes a stream that is still open, on both models, with
/// <see cref="CloseReason.LoopDisposed"/>: as with <see cref="Close"/>, a pending read completes with 0 (or null), a
/// pending <see cref="WriteAsync"/> or <see cref="FlushAsync"/> whose data did not all reach the kernel fails with
/// <see cref="IOException"/>, the fd is closed if owned, and <see cref="OnClose"/> and <see cref="Completion"/> run once,
/// from the loop's final drain (on the thread that disposes the loop).</para>
/// </remarks>
public sealed partial class LoopStream : LoopComponent, IDisposable, IAsyncDisposable, IStreamChannelHandler
{
    // Per-connection state is kept small on purpose (a server may hold 100,000 idle streams): the options are shared,
    // not copied; the fd and its kind live in the channel; what only async reads, flushes and Completion need lives in
    // a side object created on first use (Extras).
    private readonly StreamChannel _channel;
    private readonly LoopStreamOptions _options;

    private enum ReadMode : byte { None, Callback, Async }

    private ReadMode _mode;
    /// <summary>What the stream has been asked and has seen, as one set of bits instead of a cluster of booleans.</summary>
    [Flags]
    private enum State : ushort
    {
        None = 0,
        ReadPaused = 1 << 0,          // PauseRead until ResumeRead
        PeerEnded = 1 << 1,           // the peer's EOF was seen
        EndDelivered = 1 << 2,        // OnEnd (or the end of an async read) was delivered
        WriteBlocked = 1 << 3,        // the queue reached the high watermark and has not fallen to the low one
        CloseAfterDrain = 1 << 4,     // close once the queue is written
        ShutdownRequested = 1 << 5,   // shutdown(SHUT_WR) once the queue is written
        WriteShut = 1 << 6,           // shutdown(SHUT_WR) done
        Closed = 1 << 7,
        DeliveryScheduled = 1 << 8,   // a deferred delivery is queued
        Detaching = 1 << 9,           // DetachAsync waits for the fd to go quiet: no reading, no new writes
        InputMode = 1 << 10,          // callback mode with OnInput: the handler says how much it consumed
        WriteFailed = 1 << 11,        // a send failed (the peer reset): reading what it sent before, then closing with the error
        CodecFailed = 1 << 12,        // the codec rejected the input and OnCodecError may reply: no more input
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;
    private CloseReason _closeReason;
    private CloseReason _drainCloseReason = Net.CloseReason.Drained;

    /// <summary>Input received but not yet delivered: partial frames, the rest of a chunk after a pause, read-ahead. Holds
    /// no array while empty.</summary>
    private readonly ByteQueue _in = new();

    /// <summary>State that idle callback-mode streams do not need, created on first use.</summary>
    private sealed class Extras
    {
        /// <summary>Input that arrived while the caller of ReadMessageAsync still holds a message slice of <c>_in</c>.</summary>
        public ByteQueue? Late;
        /// <summary>Bytes of <c>_in</c> handed out by ReadMessageAsync, consumed at the next read call.</summary>
        public int InHeld;
        public LoopAwaitable<int>? ReadWaiter;
        public LoopAwaitable<ReadOnlyMemory<byte>?>? MessageWaiter;
        public LoopAwaitable<bool>? DrainWaiter;
        public Memory<byte> ReadTarget;
        public TaskCompletionSource<CloseReason>? ClosedTcs;
        public List<TaskCompletionSource>? FlushWaiters;
        public Exception? Error;
        /// <summary>Internal observer (ChildProcess): the reader has seen all input up to EOF, or the stream closed.</summary>
        public Action<LoopStream>? EndReached;
        /// <summary>DetachAsync's waiter, and whether reading was paused when it began (LoopStream.Detach.cs).</summary>
        public LoopAwaitable<DetachedStream>? DetachWaiter;
        public bool DetachWasPaused;
        /// <summary>The Socket or SafeHandle that owns the fd, kept alive while the stream uses it (LoopStream.Owner.cs).</summary>
        public FdOwner? Owner;
        /// <summary>The duplex pipe built on this stream, if any (LoopStream.Pipe.cs).</summary>
        public object? PipeOwner;
    }

    private Extras? _x;

    private Extras X => _x ??= new Extras();

    private Loop _loop => Loop;
    private IFrameCodec? _codec => _options.Codec;
    private bool _isSocket => _channel.IsSocket;
    private int _inHeld => _x?.InHeld ?? 0;
    private LoopAwaitable<int>? _readWaiter => _x?.ReadWaiter;
    private LoopAwaitable<ReadOnlyMemory<byte>?>? _messageWaiter => _x?.MessageWaiter;
    private LoopAwaitable<bool>? _drainWaiter => _x?.DrainWaiter;

    private static readonly Action<object?> s_deliverBuffered = static s => ((LoopStream)s!).DeliverBuffered();
    private static readonly Action<object?> s_notifyClosed = static s => ((LoopStream)s!).NotifyClosed();

    /// <summary>Wraps <paramref name="fd"/>, a connected non-blocking fd. Nothing is read until <see cref="Start"/> or
    /// an async read; writing may begin at once.</summary>
    /// <exception cref="ArgumentException">The loop is neither a reactor nor a proactor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Negative fd or inconsistent options.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed (the fd stays the caller's).</exception>
    public LoopStream(Loop loop, int fd, LoopStreamOptions? options = null) : base(loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "LoopStream: the fd must not be negative.");
        var o = options ?? LoopStreamOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, nameof(LoopStream));
        _options = o;
        bool isSocket = o.FdKind switch
        {
            StreamFdKind.Socket => true,
            StreamFdKind.File => false,
            _ => ProbeIsSocket(fd),
        };
        // The model's half lives behind the seam: reactor (watcher, read until EAGAIN) or proactor (receive and send
        // operations in flight); everything this class does is the same on both.
        _channel = loop.CreateStreamChannel(fd, this, isSocket, o.ReceiveBufferSize);
        // Last, once nothing can throw: a stream that failed to construct must not be closed by the loop's disposal.
        AttachToLoop();
    }

    /// <summary>The loop was disposed while the stream was open: its watcher is gone (reactor), or it had no operation in
    /// flight for disposal to cancel (proactor), so nothing would ever complete a pending read or report the end. Close
    /// now, exactly as the proactor driver does when disposal cancels its operations.</summary>
    protected override void OnLoopDisposing() => FinishClose(Net.CloseReason.LoopDisposed, null);

    /// <summary>send(2) of zero bytes has no effect on a socket and fails with ENOTSOCK on anything else: a probe
    /// that needs no exception and no option buffer.</summary>
    private static bool ProbeIsSocket(int fd)
    {
        int r = Posix.TrySend(fd, ReadOnlySpan<byte>.Empty);
        if (r == -Errno.EBADF) throw new LinuxEventException(Errno.EBADF, $"LoopStream(fd={fd})", "The fd is not open.");
        return r != -Errno.ENOTSOCK;
    }

    // ------------------------------------------------------------------ public surface


    /// <summary>The fd (closed by the stream when it owns it and the stream has closed).</summary>
    public int Fd => _channel.Fd;

    /// <summary>The codec of message mode, or null.</summary>
    public IFrameCodec? Codec => _codec;

    /// <summary>Free slot for the owner (e.g. a session object), so callbacks need no closure.</summary>
    public object? Data { get; set; }

    /// <summary>Byte mode: receives every chunk (callback mode).</summary>
    public StreamDataHandler? OnData { get; set; }

    /// <summary>
    /// Byte mode with partial consumption (callback mode, no codec): receives all input not consumed yet (what an
    /// earlier call left, then what just arrived) and returns how many bytes it consumed from the start. The stream
    /// keeps the rest, and only the rest (an idle stream that consumed everything holds no buffer), and offers it again,
    /// followed by new input, when more arrives or reading resumes. For protocol parsers that handle every complete
    /// request of a batch in place and leave a partial one for later.
    /// </summary>
    /// <remarks>The handler bounds what it leaves (it sees the whole length and may close the stream). Bytes left at the
    /// peer's EOF are dropped; <see cref="OnEnd"/> still runs. A handler that throws is treated as having consumed
    /// everything it was given (the exception goes to <see cref="Loop.UnhandledException"/>), so a poisonous input is
    /// not offered again. Set either this or <see cref="OnData"/>.</remarks>
    public StreamInputHandler? OnInput { get; set; }

    /// <summary>Message mode: receives every decoded message (callback mode).</summary>
    public StreamMessageHandler? OnMessage { get; set; }

    /// <summary>
    /// The codec rejected the input (a line longer than <see cref="LineCodec.MaxLineLength"/>, a bad length prefix):
    /// lets the stream answer before it closes. When set, input stops at once (nothing more is read or delivered) and the
    /// handler runs with the <see cref="InvalidDataException"/>; it may <see cref="Write"/> or
    /// <see cref="WriteMessage"/> a reply (an error line). Then <see cref="OnError"/> runs, pending reads fail with the
    /// exception, and the stream closes once its queue has drained (<see cref="CloseAfterDrain"/>), with
    /// <see cref="CloseReason.CodecError"/>, so the reply reaches the peer. The handler may also close the stream
    /// itself (its reason stands). Unset (the default), a codec error closes the stream at once.
    /// </summary>
    /// <remarks>A peer that never reads holds the close back like any <see cref="CloseAfterDrain"/>; bound it with
    /// <see cref="LoopStreamOptions.MaxQueuedBytes"/> or a timer that calls <see cref="Close"/>.</remarks>
    public Action<LoopStream, InvalidDataException>? OnCodecError { get; set; }

    /// <summary>The peer ended its side (EOF), after all input before it was delivered. Runs at most once.</summary>
    public Action<LoopStream>? OnEnd { get; set; }

    /// <summary>The stream was write-blocked and its queue fell to the low watermark.</summary>
    public Action<LoopStream>? OnDrain { get; set; }

    /// <summary>An I/O error (<see cref="ILinuxEventError"/>: a <see cref="LinuxEventSocketException"/> on a socket), a codec error (<see cref="InvalidDataException"/>)
    /// or a write queue overflow (<see cref="WriteQueueOverflowException"/>); the stream closes right after (after a failed
    /// send, once the input the peer sent before its reset is delivered: see the type's remarks). Runs at most once.</summary>
    public Action<LoopStream, Exception>? OnError { get; set; }

    /// <summary>The stream closed; runs exactly once, last, from the loop's deferred phase.</summary>
    public Action<LoopStream, CloseReason>? OnClose { get; set; }

    /// <summary>True once the stream has closed (its fd released, further writes dropped).</summary>
    public bool IsClosed => Is(State.Closed);

    /// <summary>Why the stream closed, once <see cref="IsClosed"/>.</summary>
    public CloseReason? CloseReason => Is(State.Closed) ? _closeReason : null;

    /// <summary>The error that closed the stream, if any.</summary>
    public Exception? Error => _x?.Error;

    /// <summary>True from the moment the queue reaches the high watermark until it falls to the low watermark.</summary>
    public bool IsWriteBlocked => Is(State.WriteBlocked);

    /// <summary>True between <see cref="PauseRead"/> and <see cref="ResumeRead"/>.</summary>
    public bool IsReadPaused => Is(State.ReadPaused);

    /// <summary>True once the peer's EOF has been seen (delivery of earlier input may still be pending).</summary>
    public bool IsPeerEnded => Is(State.PeerEnded);

    /// <summary>Bytes written by the caller and not yet accepted by the kernel.</summary>
    public int QueuedBytes => _channel.QueuedBytes;

    /// <summary>Bytes received from the fd so far.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes the kernel accepted so far.</summary>
    public long BytesSent => _channel.BytesSent;

    /// <summary>A task that completes (never faults) with the close reason when the stream closes. Allocated on first use.</summary>
    public Task<CloseReason> Completion
    {
        get
        {
            var x = X;
            if (x.ClosedTcs is null)
            {
                x.ClosedTcs = new TaskCompletionSource<CloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Is(State.Closed)) x.ClosedTcs.TrySetResult(_closeReason);
            }
            return x.ClosedTcs.Task;
        }
    }

    /// <summary>Starts callback-mode reading: chunks go to <see cref="OnData"/>, or messages to <see cref="OnMessage"/>
    /// when a codec is set. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">No handler is set, or the stream is in async mode.</exception>
    public void Start()
    {
        Loop.CheckLoopThread("LoopStream.Start");
        if (_mode == ReadMode.Callback || Is(State.Closed)) return;
        if (_mode == ReadMode.Async) throw new InvalidOperationException("LoopStream.Start: the stream is read with ReadAsync/ReadMessageAsync; one stream uses one reading mode.");
        if (_codec is null ? OnData is null && OnInput is null : OnMessage is null)
            throw new InvalidOperationException(_codec is null ? "LoopStream.Start: set OnData or OnInput first." : "LoopStream.Start: set OnMessage first (the stream has a codec).");
        if (OnData is not null && OnInput is not null)
            throw new InvalidOperationException("LoopStream.Start: set OnData or OnInput, not both.");
        if (OnInput is not null && _codec is not null)
            throw new InvalidOperationException("LoopStream.Start: OnInput is byte mode; the stream has a codec (use OnMessage).");
        Set(State.InputMode, OnInput is not null);
        _mode = ReadMode.Callback;
        UpdateReadInterest();
    }

    /// <summary>Stops delivering input at once (reactor: read interest off; proactor: the pending receive is
    /// cancelled, and bytes it raced in with are kept for later). Idempotent.</summary>
    public void PauseRead()
    {
        Loop.CheckLoopThread("LoopStream.PauseRead");
        if (Is(State.ReadPaused) || Is(State.Closed)) return;
        Set(State.ReadPaused, true);
        UpdateReadInterest();
        // After a failed send the stream only waits to read what the reset peer sent; with reading paused there is
        // nothing left to wait for: close with the send's error (from the deferred phase, not inside this call).
        if (Is(State.WriteFailed)) _loop.Defer(s_reportWriteFailure, this);
    }

    private static readonly Action<object?> s_reportWriteFailure = static s =>
    {
        var st = (LoopStream)s!;
        if (!st.IsClosed && st.Is(State.WriteFailed)) st.ReportFailure(st._x!.Error!);
    };

    /// <summary>Resumes delivery: input kept while paused is delivered first (from the loop's deferred phase, not
    /// inside this call), then reading continues.</summary>
    public void ResumeRead()
    {
        Loop.CheckLoopThread("LoopStream.ResumeRead");
        if (!Is(State.ReadPaused) || Is(State.Closed)) return;
        Set(State.ReadPaused, false);
        if (_in.Length > 0 || Is(State.PeerEnded)) ScheduleDelivery();
        UpdateReadInterest();
    }

    /// <summary>
    /// Queues <paramref name="data"/> for writing; never blocks. Returns false when the stream is write-blocked after
    /// queuing (the data is still queued: slow down until <see cref="OnDrain"/>), or when it is closed or failing
    /// (the data is dropped: <see cref="OnError"/>/<see cref="OnClose"/> report why).
    /// </summary>
    /// <exception cref="InvalidOperationException">Called after <see cref="ShutdownWrite"/> or <see cref="CloseAfterDrain"/>.</exception>
    public bool Write(ReadOnlySpan<byte> data)
    {
        Loop.CheckLoopThread("LoopStream.Write");
        if (!CanWrite(nameof(Write))) return false;
        if (data.IsEmpty) return !Is(State.WriteBlocked);
        if (WouldOverflow(data.Length)) return false;
        _channel.Write(data);
        AfterQueued();
        return !Is(State.WriteBlocked);
    }

    /// <summary>Frames <paramref name="payload"/> with the stream's codec and queues it, as <see cref="Write"/>.
    /// Allocation-free: the frame is encoded straight into the output queue.</summary>
    /// <exception cref="InvalidOperationException">The stream has no codec, or writing was shut down.</exception>
    /// <exception cref="ArgumentException">The codec cannot frame the payload (too long, contains a delimiter).</exception>
    public bool WriteMessage(ReadOnlySpan<byte> payload)
    {
        Loop.CheckLoopThread("LoopStream.WriteMessage");
        var codec = _codec ?? throw new InvalidOperationException("LoopStream.WriteMessage: the stream has no codec (LoopStreamOptions.Codec).");
        int length = codec.GetEncodedLength(payload.Length);
        if (!CanWrite(nameof(WriteMessage))) return false;
        if (WouldOverflow(length)) return false;
        var dst = _channel.GetWriteSpan(length);
        codec.Encode(payload, dst);
        _channel.CommitWrite(length);
        AfterQueued();
        return !Is(State.WriteBlocked);
    }

    private bool CanWrite(string call)
    {
        // After a failed send nothing more can be written; after a codec error the OnCodecError reply still may be.
        if (Is(State.Closed) || _channel.HasPendingError || Is(State.WriteFailed)) return false;
        if (Is(State.Detaching)) throw new InvalidOperationException($"LoopStream.{call}: the stream is being detached (DetachAsync).");
        if (Is(State.ShutdownRequested) || Is(State.CloseAfterDrain))
            throw new InvalidOperationException($"LoopStream.{call}: writing was ended by {(Is(State.CloseAfterDrain) ? "CloseAfterDrain" : "ShutdownWrite")}.");
        return true;
    }

    /// <summary>
    /// Half-close: once everything queued is written, shuts down the write side (shutdown(SHUT_WR): the peer reads EOF)
    /// while reading goes on. On a non-socket fd (a pipe) the only way to signal EOF is closing it, so the stream closes
    /// with <see cref="CloseReason.Drained"/> instead. Idempotent.
    /// </summary>
    public void ShutdownWrite()
    {
        Loop.CheckLoopThread("LoopStream.ShutdownWrite");
        if (Is(State.Closed) || Is(State.ShutdownRequested) || Is(State.CloseAfterDrain)) return;
        if (!_isSocket) { CloseAfterDrain(); return; }
        Set(State.ShutdownRequested, true);
        if (QueuedBytes == 0) DoShutdownWrite();
    }

    /// <summary>Stops reading and closes the stream once everything queued has been handed to the kernel
    /// (<see cref="CloseReason.Drained"/>). Idempotent.</summary>
    public void CloseAfterDrain()
    {
        Loop.CheckLoopThread("LoopStream.CloseAfterDrain");
        CloseAfterDrainWith(Net.CloseReason.Drained);
    }

    private void CloseAfterDrainWith(CloseReason reason)
    {
        if (Is(State.Closed) || Is(State.CloseAfterDrain)) return;
        if (Is(State.WriteFailed))
        {
            ReportFailure(_x!.Error!);              // the queue can never drain: a send failed (the peer reset)
            return;
        }
        Set(State.CloseAfterDrain, true);
        _drainCloseReason = reason;
        UpdateReadInterest();
        if (QueuedBytes == 0) FinishClose(reason, null);
    }

    /// <summary>Closes now: queued writes are dropped, pending kernel operations cancelled, the fd closed if owned.
    /// <see cref="OnClose"/> runs once, from the loop's deferred phase. Idempotent.</summary>
    public void Close()
    {
        if (Is(State.Closed) || IsLoopTornDownElsewhere) return;
        Loop.CheckLoopThread("LoopStream.Close");
        FinishClose(Net.CloseReason.Local, null);
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    /// <summary>The model's channel under the stream (for tests and diagnostics).</summary>
    internal StreamChannel Channel => _channel;

    /// <summary>Bytes of input buffers the stream holds now (0 once everything received was consumed).</summary>
    internal int InputBufferBytes => _in.Capacity + (_x?.Late?.Capacity ?? 0);

    /// <summary>
    /// Graceful close, for <c>await using</c>: stops reading, lets everything queued reach the kernel
    /// (<see cref="CloseAfterDrain"/>), and completes when the stream has closed (<see cref="Completion"/>). Await it on
    /// the loop (in loop code: the loop must keep running for the queue to drain). A stream already closed completes at once.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Is(State.Closed)) return ValueTask.CompletedTask;
        CloseAfterDrain();
        return new ValueTask(Completion);
    }

    /// <inheritdoc />
    public override string ToString() => $"LoopStream(fd={Fd}, {(_isSocket ? "socket" : "file")}, {_loop.BackendName}{(Is(State.Closed) ? ", closed: " + CloseReason : "")})";
}
