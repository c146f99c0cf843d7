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
    private bool _busy, _cancelRequested, _singleShot;

    public override void SetAccepting(bool on)
    {
        if (IsClosed) return;
        IsAccepting = on;
        if (on)
        {
            if (!_busy) Submit();
        }
        else if (_busy && !_cancelRequested)
        {
            _cancelRequested = true;
            _accept!.Cancel();
        }
    }

    private void Submit()
    {
        if (_loop.IsDisposed) return;
        if (!_singleShot)
        {
            try
            {
                _accept = _loop.AcceptMultishot(Fd, s_accepted, s_acceptEnded);
                _accept.Data = this;
                _busy = true;
                _cancelRequested = false;
                return;
            }
            catch (LinuxEventUnsupportedException)
            {
                _singleShot = true;                    // kernel older than 5.19: one accept at a time
                _accept = null;
            }
        }
        if (_accept is null)
        {
            _accept = _loop.Accept(Fd, s_acceptEnded);
            _accept.Data = this;
        }
        else _loop.Resubmit(_accept);
        _busy = true;
        _cancelRequested = false;
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
        _busy = false;
        bool cancelledByUs = _cancelRequested;
        _cancelRequested = false;
        if (IsClosed || _loop.IsDisposed)
        {
            // A single-shot accept carries its connection in the result: nobody else will close it.
            if (_singleShot && op.State == OperationState.Completed) Native.Libc.Close(op.Result);
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                if (_singleShot) Handler.OnAccepted(op.Result);
                break;                                   // a multishot that ended cleanly is re-armed below
            case OperationState.Failed:
                if (!Handler.OnAcceptFailed(op.Error!.Errno)) return;
                break;
            case OperationState.Cancelled:
                if (!cancelledByUs) return;              // the loop is being disposed
                break;
        }
        if (IsAccepting && !_busy && !IsClosed) Submit();
    }

    public override void Close()
    {
        if (IsClosed) return;
        IsClosed = true;
        IsAccepting = false;
        if (!_loop.IsDisposed && _busy)
        {
            if (!_cancelRequested) { _cancelRequested = true; _accept!.Cancel(); }
            // An accept queued in this iteration still names the socket by number: submit it before the owner closes it.
            _loop.FlushSubmissions("AcceptChannel.Close");
        }
    }
}
