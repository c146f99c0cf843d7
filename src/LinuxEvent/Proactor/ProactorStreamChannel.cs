namespace LinuxEvent.Proactor;

/// <summary>
/// The proactor's stream channel: one receive armed while reading is on (<c>ProactorStreamChannel.Receive.cs</c>) and
/// one send at a time. The bytes being sent live in <see cref="_sending"/>, which is never appended to while its send
/// is in flight (the kernel reads it): new writes queue behind it in the output queue, and the two swap when the send
/// completes.
/// </summary>
/// <remarks>
/// <b>Memory.</b> On a socket with the loop's shared receive ring (<see cref="StreamReceiveRing"/>) the receive is a
/// multishot receive that owns no buffer; otherwise it owns one rented buffer, pinned while in flight. The send side
/// (the send <see cref="Operation"/> and both queues) is taken from the loop's pools when there is something to send
/// and given back, arrays returned, once everything was sent. An idle connection therefore costs this object and its
/// receive operation only.
/// </remarks>
internal sealed partial class ProactorStreamChannel(ProactorLoop loop, int fd, bool isSocket, int receiveBufferSize, IStreamChannelHandler handler)
    : StreamChannel(loop, fd, isSocket, receiveBufferSize, handler)
{
    private static readonly Action<Operation> s_sent = static op => ((ProactorStreamChannel)op.Data!).OnSent(op);

    private Operation? _recv, _send;
    private ByteQueue? _sending;

    /// <summary>Where the two operations are, as one set of bits.</summary>
    [Flags]
    private enum State : byte
    {
        None = 0,
        ReceiveInFlight = 1 << 0,          // the receive is submitted and has not settled
        ReceiveCancelRequested = 1 << 1,   // we cancelled it (reading off, or close)
        SendInFlight = 1 << 2,             // the send is submitted and has not settled
        ReleaseRequested = 1 << 3,         // buffers go back to the pool once the kernel is done with them
        SharedRing = 1 << 4,               // receives are multishot on the loop's shared ring (decided at the first arm)
        PerStream = 1 << 5,                // receives use the stream's own buffer (decided at the first arm)
        ArmDeferred = 1 << 6,              // the first arm waits for the loop thread (the shared ring is not registered yet)
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;

    // The loop and its driver are reached through the base class's Loop rather than kept in fields: one reference less
    // per connection.
    private ProactorLoop Proactor => (ProactorLoop)Loop;

    private ProactorIoDriver Driver => Proactor.ProactorDriver;

    private protected override int InFlightBytes => _sending?.Length ?? 0;

    public override bool HasOperationsInFlight => (_state & (State.ReceiveInFlight | State.SendInFlight)) != 0;

    internal override int HeldBufferBytes => (OutputIfAny?.Capacity ?? 0) + (_sending?.Capacity ?? 0) + (_rx?.Length ?? 0);

    /// <summary>True once the first arm chose the loop's shared receive ring (for tests).</summary>
    internal bool UsesSharedRing => Is(State.SharedRing);

    /// <summary>True while the channel holds send-side objects (the operation or a queue); false when idle (for tests).</summary>
    internal bool HoldsSendState => _send is not null || _sending is not null || OutputIfAny is not null;

    private protected override ByteQueue NewQueue() => Driver.RentQueue();

    private protected override void WriteCore(ReadOnlySpan<byte> data)
    {
        Output.Append(data);
        Kick();
    }

    private protected override void Kick()
    {
        if (Is(State.SendInFlight) || IsClosed || Proactor.IsDisposed) return;
        if (_sending is not { Length: > 0 })
        {
            var output = OutputIfAny;
            if (output is null || output.Length == 0) return;
            // Swap queues: what was waiting becomes the in-flight batch, new writes append to the emptied one.
            OutputIfAny = _sending;
            _sending = output;
        }
        var memory = _sending.Memory;
        try
        {
            if (IsSocket)
            {
                // A pooled send, held only while this connection has bytes to send.
                if (_send is null)
                {
                    _send = Driver.RentStreamSend(s_sent);
                    _send.Data = this;
                }
                Proactor.SubmitSend(_send, Fd, memory);
            }
            else if (_send is null)
            {
                _send = Proactor.Write(Fd, memory, -1, s_sent);
                _send.Data = this;
            }
            else Proactor.Resubmit(_send, memory);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "io_uring submit");
            return;
        }
        Set(State.SendInFlight, true);
    }

    /// <summary>
    /// Everything written was sent: the send operation and both queues (their arrays returned to the array pool) go
    /// back to the loop's pools, so an idle connection holds none of them. A pipe's write operation is kept.
    /// </summary>
    private void ReleaseSendSide()
    {
        if (Is(State.SendInFlight) || (_sending?.Length ?? 0) > 0 || (OutputIfAny?.Length ?? 0) > 0) return;
        var driver = Driver;
        if (_send is not null && IsSocket)
        {
            driver.ReturnStreamSend(_send);
            _send = null;
        }
        if (_sending is not null)
        {
            driver.ReturnQueue(_sending);
            _sending = null;
        }
        if (OutputIfAny is { } output)
        {
            driver.ReturnQueue(output);
            OutputIfAny = null;
        }
    }

    private void OnSent(Operation op)
    {
        Set(State.SendInFlight, false);
        if (IsClosed)
        {
            if (Is(State.ReleaseRequested)) ReleaseSendSideAfterClose();
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                int sent = op.Result;                 // read before Kick: resubmitting resets the operation
                _sending!.Consume(sent);              // a short send resubmits the rest from the right offset
                BytesSent += sent;
                Kick();
                ReleaseSendSide();                    // before the owner's callback, which may write on another stream
                Handler.OnSent(sent);
                return;
            case OperationState.Failed:
                int errno = op.Error!.Errno;
                if (errno is Errno.EINTR or Errno.EAGAIN) { Kick(); return; }
                Handler.OnFailed(errno, IsSocket ? "send" : "write");
                return;
            default:
                // The channel never cancels a send while open: this is the loop's disposal, which tells the owner.
                return;
        }
    }

    private protected override void CloseCore(bool closeFd)
    {
        IsReading = false;
        // io_uring holds its own reference to the file for each operation, so closing the number does not stop them:
        // cancel first. They settle later (Cancelled, or with a result that is then ignored); their buffers are
        // released only then. During the loop's disposal the loop cancels them itself.
        if (!Proactor.IsDisposed)
        {
            if (Is(State.ReceiveInFlight) && !Is(State.ReceiveCancelRequested)) { Set(State.ReceiveCancelRequested, true); _recv!.Cancel(); }
            if (Is(State.SendInFlight)) _send!.Cancel();
            // A receive or send queued in this iteration still names the fd by number: submit it before the fd is
            // closed (here when owned, by the owner otherwise).
            if (Is(State.ReceiveInFlight) || Is(State.SendInFlight)) Proactor.FlushSubmissions("StreamChannel.Close");
        }
        if (closeFd) CloseFd(Fd);
    }

    public override void ReleaseBuffers()
    {
        Set(State.ReleaseRequested, true);
        if (!Is(State.ReceiveInFlight)) ReturnRx();
        if (!Is(State.SendInFlight)) ReleaseSendSideAfterClose();
    }

    /// <summary>After close, once no send is in flight: queued bytes are dropped and the send side goes back to the pools.</summary>
    private void ReleaseSendSideAfterClose()
    {
        _sending?.Clear();
        OutputIfAny?.Clear();
        ReleaseSendSide();
    }
}
