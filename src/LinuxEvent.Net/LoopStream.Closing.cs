namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    // The meter's "reason" tags, built once: Enum.ToString allocates.
    private static readonly string[] s_closeReasonNames = Enum.GetNames<CloseReason>();

    // ------------------------------------------------------------------ failure and close

    /// <summary>An I/O error from dispatch: OnError, then close with <see cref="CloseReason.Error"/>.</summary>
    void IStreamChannelHandler.OnFailed(int errno, string call) => Fail(errno, call);

    private void Fail(int errno, string call)
    {
        if (Is(State.Closed)) return;
        if (Is(State.WriteFailed))
        {
            // Reading after a failed send has ended too (a receive error, or the stream stopped reading): close with the
            // send's error, which is the one already recorded.
            if (call is "send" or "write") return;
            ReportFailure(_x!.Error!);
            return;
        }
        var ex = LinuxEventException.Create(errno, $"{call}(fd={Fd})", _isSocket);
        X.Error = ex;
        if (call is "send" or "write" && errno is Errno.ECONNRESET or Errno.EPIPE && _isSocket && _mode == ReadMode.Callback
            && !Is(State.PeerEnded) && !Is(State.ReadPaused) && !Is(State.CloseAfterDrain) && !Is(State.Detaching))
        {
            // The peer reset the connection, but the bytes it sent before the reset are still queued in the kernel (a
            // receive returns them, then the end of the stream): read and deliver them, then close with this error
            // (OnPeerClosed or a receive error ends it). Writing is over: CanWrite refuses once WriteFailed is set.
            Set(State.WriteFailed, true);
            UpdateReadInterest();
            if (_in.Length > 0 && CanDeliver) DeliverInput();
            return;
        }
        ReportFailure(ex);
    }

    /// <summary>OnError, then close with <see cref="CloseReason.Error"/>; input received before the error goes to the
    /// owner first.</summary>
    private void ReportFailure(Exception ex)
    {
        // Input received before the error was reported is the peer's and still goes to the owner first: a send that
        // fails (a reset seen by a Write) is reported from the deferred phase, and a chunk received meanwhile was kept
        // rather than delivered. Writes during this delivery are refused (CanWrite: the stream is failing).
        if (_in.Length > 0 && CanDeliver) DeliverInput();
        if (Is(State.Closed)) return;
        var onError = OnError;
        if (onError is not null)
        {
            try { onError(this, ex); } catch (Exception cbEx) { _loop.ReportException(cbEx); }
        }
        FinishClose(Net.CloseReason.Error, ex);
    }

    private void FailCodec(string? message)
    {
        if (Is(State.Closed) || Is(State.CodecFailed)) return;
        var ex = new InvalidDataException($"LoopStream(fd={Fd}): codec {_codec!.GetType().Name} rejected the input: {message}.");
        X.Error = ex;
        if (OnCodecError is not null)
        {
            ReplyToCodecError(ex);
            return;
        }
        var onError = OnError;
        if (onError is not null)
        {
            try { onError(this, ex); } catch (Exception cbEx) { _loop.ReportException(cbEx); }
        }
        FinishClose(Net.CloseReason.CodecError, ex);
    }

    /// <summary>
    /// The codec failed and <see cref="OnCodecError"/> is set: input stops (nothing more is read or delivered), the
    /// handler may write a reply, pending reads fail with the error, <see cref="OnError"/> runs, and the stream closes
    /// with <see cref="CloseReason.CodecError"/> once the reply has drained.
    /// </summary>
    private void ReplyToCodecError(InvalidDataException ex)
    {
        Set(State.CodecFailed, true);
        UpdateReadInterest();
        var reply = OnCodecError!;
        try { reply(this, ex); } catch (Exception cbEx) { _loop.ReportException(cbEx); }
        if (Is(State.Closed)) return;                       // the handler closed it (its reason stands)
        if (_readWaiter?.IsPending == true) _readWaiter.SetException(ex);
        if (_messageWaiter?.IsPending == true) _messageWaiter.SetException(ex);
        var onError = OnError;
        if (onError is not null)
        {
            try { onError(this, ex); } catch (Exception cbEx) { _loop.ReportException(cbEx); }
        }
        if (Is(State.Closed)) return;
        if (Is(State.CloseAfterDrain)) return;             // the handler asked for it already: its reason stands
        // A ShutdownWrite from the handler still sends its FIN after the reply; the close follows the drain.
        _drainCloseReason = Net.CloseReason.CodecError;
        Set(State.CloseAfterDrain, true);
        Set(State.ShutdownRequested, false);
        UpdateReadInterest();
        if (QueuedBytes == 0) FinishClose(Net.CloseReason.CodecError, null);
    }

    private void FinishClose(CloseReason reason, Exception? error)
    {
        if (Is(State.Closed)) return;
        Set(State.Closed, true);
        DetachFromLoop();               // closed once: the loop's disposal has nothing left to close
        StopIdleTimer();
        _closeReason = reason;
        _loop.Metrics.RecordClose(s_closeReasonNames[(int)reason]);
        if (error is not null) X.Error = error;
        bool drained = QueuedBytes == 0;
        // A detached fd goes back to the caller open; one owned through a Socket/SafeHandle is released through it.
        _channel.Close(_options.OwnsFd && _owner is null && reason != Net.CloseReason.Detached);
        ReleaseOwner(dispose: _options.OwnsFd && reason != Net.CloseReason.Detached);
        CompleteFlushWaiters(drained ? null : error ?? new IOException($"LoopStream(fd={Fd}) closed ({reason}) before its write queue drained."));
        // Waiters settle now (their continuations still run from the deferred phase).
        if (_readWaiter?.IsPending == true)
        {
            if (error is not null) _readWaiter.SetException(error); else _readWaiter.SetResult(0);
        }
        if (_messageWaiter?.IsPending == true)
        {
            if (error is not null) _messageWaiter.SetException(error); else _messageWaiter.SetResult(null);
        }
        FailDetach(reason, error);
        if (_drainWaiter?.IsPending == true)
        {
            if (drained && error is null) _drainWaiter.SetResult(true);
            else _drainWaiter.SetException(error ?? new IOException($"LoopStream(fd={Fd}) closed ({reason}) before its write queue drained."));
        }
        _loop.Defer(s_notifyClosed, this);
    }

    /// <summary>Internal observer (ChildProcess): the reader has seen all input up to EOF, or the stream closed.
    /// Raised once.</summary>
    internal Action<LoopStream>? EndReached
    {
        get => _x?.EndReached;
        set => X.EndReached = value;
    }

    private void RaiseEndReached()
    {
        var hook = _x?.EndReached;
        if (hook is null) return;
        _x!.EndReached = null;
        try { hook(this); } catch (Exception ex) { _loop.ReportException(ex); }
    }

    private void NotifyClosed()
    {
        // Buffers go back to the pool only here: a callback that closed the stream may still be iterating a span of
        // them further up its stack, which has unwound by the deferred phase.
        // A message handed out by ReadMessageAsync is a slice of _in and stays valid until the next read call, which may
        // come after the close: then the array must not go back to the shared pool, where another renter would reuse it.
        if (_inHeld > 0) _in.Abandon(); else _in.Release();
        _x?.Late?.Release();
        _channel.ReleaseBuffers();
        if (_closeReason == Net.CloseReason.WriteQueueOverflow && OnError is { } onError)
        {
            // Found inside Write, so reported here rather than inline: OnError, then OnClose, as for other errors.
            try { onError(this, _x!.Error!); } catch (Exception ex) { _loop.ReportException(ex); }
        }
        _x?.ClosedTcs?.TrySetResult(_closeReason);
        RaiseEndReached();
        var onClose = OnClose;
        if (onClose is not null)
        {
            try { onClose(this, _closeReason); } catch (Exception ex) { _loop.ReportException(ex); }
        }
    }
}
