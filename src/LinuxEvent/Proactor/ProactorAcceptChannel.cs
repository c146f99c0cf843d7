namespace LinuxEvent.Proactor;

/// <summary>
/// The proactor's accept channel: one multishot accept while accepting is on (a single-shot accept, resubmitted, on
/// kernels without multishot accept). Turning accepting off cancels it; a connection the kernel had already accepted is
/// still delivered, so the owner must take connections that arrive after it turned accepting off.
/// </summary>
internal sealed class ProactorAcceptChannel(ProactorIoDriver driver, int fd, int maxPerWake, IAcceptChannelHandler handler)
    : AcceptChannel(driver.Proactor, fd, maxPerWake, handler)
{
    private static readonly Action<Operation, int> s_accepted = static (op, fd) => ((ProactorAcceptChannel)op.Data!).OnAccepted(fd);
    private static readonly Action<Operation> s_acceptEnded = static op => ((ProactorAcceptChannel)op.Data!).OnAcceptEnded(op);

    private readonly ProactorLoop _loop = driver.Proactor;
    private Operation? _accept;
    /// <summary>Where the accept operation is, as one set of bits.</summary>
    [Flags]
    private enum State : byte
    {
        None = 0,
        InFlight = 1 << 0,   // submitted and not settled
        CancelRequested = 1 << 1,   // we cancelled it
        SingleShot = 1 << 2,   // the kernel has no multishot accept (before 5.19)
    }

    private State _state;

    private bool Is(State flag) => (_state & flag) != 0;

    private void Set(State flag, bool on) => _state = on ? _state | flag : _state & ~flag;

    private protected override void SetAcceptingCore(bool on)
    {
        IsAccepting = on;
        if (on)
        {
            if (!Is(State.InFlight)) Submit();
        }
        else if (Is(State.InFlight) && !Is(State.CancelRequested))
        {
            Set(State.CancelRequested, true);
            _accept!.Cancel();
        }
    }

    private void Submit()
    {
        if (_loop.IsDisposed) return;
        if (!Is(State.SingleShot))
        {
            try
            {
                _accept = _loop.AcceptMultishot(Fd, s_accepted, s_acceptEnded);
                _accept.Data = this;
                Set(State.InFlight, true);
                Set(State.CancelRequested, false);
                return;
            }
            catch (LinuxEventUnsupportedException)
            {
                Set(State.SingleShot, true);                    // kernel older than 5.19: one accept at a time
                _accept = null;
            }
        }
        if (_accept is null)
        {
            _accept = _loop.Accept(Fd, s_acceptEnded);
            _accept.Data = this;
        }
        else _loop.Resubmit(_accept);
        Set(State.InFlight, true);
        Set(State.CancelRequested, false);
    }

    private void OnAccepted(int fd)
    {
        // A connection that raced the close or the loop's disposal is closed, not handed out: nothing can serve it, and
        // the reactor (whose listening socket just closes) never delivers one either.
        if (IsClosed || _loop.IsDisposed) { Native.Libc.Close(fd); return; }
        Handler.OnAccepted(fd);
    }

    private void OnAcceptEnded(Operation op)
    {
        Set(State.InFlight, false);
        bool cancelledByUs = Is(State.CancelRequested);
        Set(State.CancelRequested, false);
        if (IsClosed || _loop.IsDisposed)
        {
            // A single-shot accept carries its connection in the result: nobody else will close it.
            if (Is(State.SingleShot) && op.State == OperationState.Completed) Native.Libc.Close(op.Result);
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                if (Is(State.SingleShot)) Handler.OnAccepted(op.Result);
                break;                                   // a multishot that ended cleanly is re-armed below
            case OperationState.Failed:
                if (!Handler.OnAcceptFailed(op.Error!.Errno)) return;
                break;
            case OperationState.Cancelled:
                if (!cancelledByUs) return;              // the loop is being disposed
                break;
        }
        if (IsAccepting && !Is(State.InFlight) && !IsClosed) Submit();
    }

    private protected override void CloseCore()
    {
        if (!_loop.IsDisposed && Is(State.InFlight))
        {
            if (!Is(State.CancelRequested)) { Set(State.CancelRequested, true); _accept!.Cancel(); }
            // An accept queued in this iteration still names the socket by number: submit it before the owner closes it.
            _loop.FlushSubmissions("AcceptChannel.Close");
        }
    }
}
