namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    // ------------------------------------------------------------------ writing (shared)

    private void AfterQueued()
    {
        if (!Is(State.WriteBlocked) && QueuedBytes >= _options.HighWatermark) Set(State.WriteBlocked, true);
    }

    /// <summary>
    /// The hard bound: a write of <paramref name="length"/> bytes that would take the queue past
    /// <see cref="LoopStreamOptions.MaxQueuedBytes"/> is refused and the stream closes at once (the queue is dropped, the
    /// fd closed); <see cref="OnError"/> and <see cref="OnClose"/> run from the deferred phase, never inside the write.
    /// </summary>
    private bool WouldOverflow(int length)
    {
        int queued = QueuedBytes;
        if ((long)queued + length <= _options.MaxQueuedBytes) return false;
        var ex = new WriteQueueOverflowException(Fd, queued, length, _options.MaxQueuedBytes);
        X.Error = ex;
        FinishClose(Net.CloseReason.WriteQueueOverflow, ex);
        return true;
    }

    /// <summary>The kernel accepted <paramref name="count"/> bytes; called by the drivers from I/O dispatch.</summary>
    void IStreamChannelHandler.OnSent(int count)
    {
        int queued = QueuedBytes;
        if (Is(State.WriteBlocked) && queued <= _options.LowWatermark)
        {
            Set(State.WriteBlocked, false);
            _drainWaiter?.SetResult(true);
            Invoke(OnDrain);
            if (Is(State.Closed)) return;
            queued = QueuedBytes;
        }
        if (queued != 0) return;
        CompleteFlushWaiters(null);
        if (Is(State.Detaching)) { ContinueDetach(); return; }
        if (Is(State.CloseAfterDrain)) FinishClose(_drainCloseReason, null);
        else if (Is(State.ShutdownRequested) && !Is(State.WriteShut)) DoShutdownWrite();
    }

    private void DoShutdownWrite()
    {
        if (Is(State.WriteShut) || Is(State.Closed)) return;
        Set(State.WriteShut, true);
        try { Posix.Shutdown(Fd, System.Net.Sockets.SocketShutdown.Send); }
        catch (LinuxEventSocketException ex)
        {
            // ENOTCONN: the peer already reset the connection; that is the error to report.
            Fail(ex.Errno, "shutdown(SHUT_WR)");
            return;
        }
        if (Is(State.PeerEnded) && Is(State.EndDelivered) && _options.PeerEnd == PeerEndBehavior.HalfOpen) FinishClose(Net.CloseReason.PeerClosed, null);
    }
}
