using System.Buffers;

namespace LinuxEvent.Proactor;

/// <summary>
/// The proactor's stream channel: one receive in flight while reading is on and one send at a time, each an
/// <see cref="Operation"/> created once and resubmitted (no allocation per chunk). The bytes being sent live in
/// <see cref="_sending"/>, which is never appended to while its send is in flight (the kernel reads it): new writes
/// queue behind it in the output queue, and the two swap when the send completes.
/// </summary>
internal sealed class ProactorStreamChannel(ProactorIoDriver driver, int fd, bool isSocket, int receiveBufferSize, IStreamChannelHandler handler)
    : StreamChannel(driver.Proactor, fd, isSocket, receiveBufferSize, handler)
{
    private static readonly Action<Operation> s_received = static op => ((ProactorStreamChannel)op.Data!).OnReceived(op);
    private static readonly Action<Operation> s_sent = static op => ((ProactorStreamChannel)op.Data!).OnSent(op);

    private readonly ProactorLoop _loop = driver.Proactor;
    private Operation? _recv, _send;
    /// <summary>Where the two operations are, as one set of bits.</summary>
    [Flags]
    private enum State : byte
    {
        None = 0,
        ReceiveInFlight = 1 << 0,   // the receive is submitted and has not settled
        ReceiveCancelRequested = 1 << 1,   // we cancelled it (reading off, or close)
        SendInFlight = 1 << 2,   // the send is submitted and has not settled
        ReleaseRequested = 1 << 3,   // buffers go back to the pool once the kernel is done with them
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;
    private byte[]? _rx;
    private ByteQueue _sending = new();

    private protected override int InFlightBytes => _sending.Length;

    public override bool HasOperationsInFlight => (_state & (State.ReceiveInFlight | State.SendInFlight)) != 0;

    private protected override void SetReadingCore(bool on)
    {
        if (IsClosed) return;
        IsReading = on;
        if (on)
        {
            // A receive being cancelled resubmits itself when it settles (IsReading is checked then).
            if (!Is(State.ReceiveInFlight)) SubmitReceive();
        }
        else if (Is(State.ReceiveInFlight) && !Is(State.ReceiveCancelRequested))
        {
            // Bytes the cancel races with are not lost: they are still delivered.
            Set(State.ReceiveCancelRequested, true);
            _recv!.Cancel();
        }
    }

    private void SubmitReceive()
    {
        if (IsClosed || _loop.IsDisposed) return;
        _rx ??= ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var memory = new Memory<byte>(_rx, 0, ReceiveBufferSize);
        try
        {
            if (_recv is null)
            {
                _recv = IsSocket ? _loop.Receive(Fd, memory, s_received) : _loop.Read(Fd, memory, -1, s_received);
                _recv.Data = this;                    // before any dispatch: callbacks never run inline from a submit
            }
            else _loop.Resubmit(_recv, memory);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "io_uring submit");
            return;
        }
        Set(State.ReceiveInFlight, true);
        Set(State.ReceiveCancelRequested, false);
    }

    private void OnReceived(Operation op)
    {
        Set(State.ReceiveInFlight, false);
        bool cancelledByUs = Is(State.ReceiveCancelRequested);
        Set(State.ReceiveCancelRequested, false);
        if (IsClosed)
        {
            if (Is(State.ReleaseRequested)) ReturnRx();
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                if (op.Result == 0)
                {
                    IsReading = false;
                    Handler.OnPeerClosed();
                    return;
                }
                Handler.OnReceived(new ReadOnlySpan<byte>(_rx, 0, op.Result));
                break;
            case OperationState.Failed:
                int errno = op.Error!.Errno;
                if (errno is Errno.EINTR or Errno.EAGAIN) break;          // retry: resubmitted below
                Handler.OnFailed(errno, IsSocket ? "recv" : "read");
                return;
            case OperationState.Cancelled:
                // Not ours: the loop cancels everything when it is disposed; the owner is told by its disposal hook.
                if (!cancelledByUs) return;
                break;
        }
        if (!IsClosed && IsReading && !Is(State.ReceiveInFlight)) SubmitReceive();
    }

    private protected override void WriteCore(ReadOnlySpan<byte> data)
    {
        Output.Append(data);
        Kick();
    }

    private protected override void Kick()
    {
        if (Is(State.SendInFlight) || IsClosed || _loop.IsDisposed) return;
        if (_sending.Length == 0)
        {
            if (Output.Length == 0) return;
            // Swap queues: what was waiting becomes the in-flight batch, new writes append to the emptied one.
            (_sending, Output) = (Output, _sending);
        }
        var memory = _sending.Memory;
        try
        {
            if (_send is null)
            {
                _send = IsSocket ? _loop.Send(Fd, memory, s_sent) : _loop.Write(Fd, memory, -1, s_sent);
                _send.Data = this;
            }
            else _loop.Resubmit(_send, memory);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "io_uring submit");
            return;
        }
        Set(State.SendInFlight, true);
    }

    private void OnSent(Operation op)
    {
        Set(State.SendInFlight, false);
        if (IsClosed)
        {
            if (Is(State.ReleaseRequested)) _sending.Release();
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                int sent = op.Result;                 // read before Kick: resubmitting resets the operation
                _sending.Consume(sent);               // a short send resubmits the rest from the right offset
                BytesSent += sent;
                Kick();
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
        if (!_loop.IsDisposed)
        {
            if (Is(State.ReceiveInFlight) && !Is(State.ReceiveCancelRequested)) { Set(State.ReceiveCancelRequested, true); _recv!.Cancel(); }
            if (Is(State.SendInFlight)) _send!.Cancel();
            // A receive or send queued in this iteration still names the fd by number: submit it before the fd is
            // closed (here when owned, by the owner otherwise).
            if (Is(State.ReceiveInFlight) || Is(State.SendInFlight)) _loop.FlushSubmissions("StreamChannel.Close");
        }
        if (closeFd) CloseFd(Fd);
    }

    public override void ReleaseBuffers()
    {
        Set(State.ReleaseRequested, true);
        if (!Is(State.ReceiveInFlight)) ReturnRx();
        if (!Is(State.SendInFlight)) _sending.Release();
        Output.Release();
    }

    private void ReturnRx()
    {
        if (_rx is not null) ArrayPool<byte>.Shared.Return(_rx);
        _rx = null;
    }
}
