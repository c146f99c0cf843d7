namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    private LoopAwaitable<DetachedStream>? _detachWaiter;
    private bool _detachWasPaused;

    private static readonly Action<object?> s_pollDetach = static s => ((LoopStream)s!).ContinueDetach();

    /// <summary>
    /// Hands the fd back, open, together with the input already read ahead from it, and closes the stream without
    /// closing the fd (<see cref="CloseReason.Detached"/>; <see cref="OnClose"/> runs as for any close, and a pending
    /// read completes with 0). Use it to give a connection to other code, e.g. a <see cref="System.Net.Sockets.Socket"/>
    /// (<see cref="DetachedStream.ToSocket"/>), without losing a byte.
    /// </summary>
    /// <remarks>
    /// It succeeds only when nothing is still on its way through the fd: the write queue is empty, and no kernel
    /// operation of the stream is in flight. On the reactor that is the case whenever the queue is empty. On the
    /// proactor a receive stays in flight while the stream reads (or reads ahead), and cancelling it takes a trip
    /// through the kernel during which it may still complete with bytes: use <see cref="DetachAsync"/>, which stops
    /// reading, waits for that receive to settle and for the queue to drain, then detaches.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Bytes are still queued for writing, a kernel operation is in flight
    /// (proactor), a <see cref="DetachAsync"/> is pending, or the call is not on the loop thread. Nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The stream is closed.</exception>
    public DetachedStream Detach()
    {
        Loop.CheckLoopThread("LoopStream.Detach");
        ThrowIfCannotDetach("Detach");
        if (Is(State.Detaching)) throw new InvalidOperationException("LoopStream.Detach: a DetachAsync is pending.");
        if (QueuedBytes > 0)
            throw new InvalidOperationException($"LoopStream.Detach: {QueuedBytes} bytes are still queued for writing; await FlushAsync first, or use DetachAsync.");
        if (_channel.HasOperationsInFlight)
            throw new InvalidOperationException("LoopStream.Detach: a kernel operation on the fd is still in flight (the proactor's receive, armed while the stream reads); use DetachAsync, which waits for it to settle.");
        return DetachNow();
    }

    /// <summary>
    /// Stops reading and writing, waits until the write queue has drained into the kernel and no kernel operation of
    /// the stream is in flight (proactor: the receive it cancels may still bring bytes, which are kept), then detaches
    /// as <see cref="Detach"/> does. Completes on the loop thread. While it is pending, writes are refused and input is
    /// buffered, not delivered.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled: the stream carries on as before.</exception>
    /// <exception cref="IOException">The stream closed (or failed) before it could detach.</exception>
    /// <exception cref="InvalidOperationException">Another detach is pending, or the call is not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The stream is closed.</exception>
    public ValueTask<DetachedStream> DetachAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.DetachAsync");
        ThrowIfCannotDetach("DetachAsync");
        if (Is(State.Detaching)) throw new InvalidOperationException("LoopStream.DetachAsync: another detach is pending.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<DetachedStream>(cancellationToken);
        if (QueuedBytes == 0 && !_channel.HasOperationsInFlight) return new ValueTask<DetachedStream>(DetachNow());
        _detachWasPaused = Is(State.ReadPaused);
        Set(State.Detaching, true);
        UpdateReadInterest();                     // proactor: cancels the receive in flight
        _detachWaiter ??= new LoopAwaitable<DetachedStream>(_loop, _ => CancelDetach());
        _detachWaiter.Start(cancellationToken);
        // With output queued, OnSent continues once it has drained; otherwise only the cancelled receive is awaited.
        if (QueuedBytes == 0) _loop.Defer(s_pollDetach, this);
        return _detachWaiter.Task;
    }

    private void ThrowIfCannotDetach(string call)
    {
        if (Is(State.Closed)) throw new ObjectDisposedException(nameof(LoopStream), $"LoopStream.{call}: the stream is closed ({CloseReason}).");
    }

    /// <summary>Progress of a pending detach: from <see cref="IStreamChannelHandler.OnSent"/> once the queue is empty,
    /// then polled from the deferred phase until the cancelled receive has settled (a kernel round trip or two).</summary>
    private void ContinueDetach()
    {
        if (!Is(State.Detaching) || _detachWaiter?.IsPending != true) return;
        if (Is(State.Closed)) return;             // FinishClose settled the waiter
        if (QueuedBytes > 0) return;              // OnSent calls again when the queue is empty
        if (_channel.HasOperationsInFlight)
        {
            _loop.Defer(s_pollDetach, this);
            return;
        }
        _detachWaiter.SetResult(DetachNow());
    }

    private void CancelDetach()
    {
        Set(State.Detaching, false);
        if (!Is(State.Closed))
        {
            if (!_detachWasPaused && (_in.Length > 0 || Is(State.PeerEnded))) ScheduleDelivery();
            UpdateReadInterest();
        }
        _detachWaiter!.SetCanceled();
    }

    /// <summary>The stream closed while a detach was pending (an error, a reset, a local close, the loop's disposal).</summary>
    private void FailDetach(CloseReason reason, Exception? error)
    {
        if (reason == Net.CloseReason.Detached || _detachWaiter?.IsPending != true) return;
        Set(State.Detaching, false);
        _detachWaiter.SetException(new IOException($"LoopStream(fd={Fd}).DetachAsync: the stream closed ({reason}) before it could detach.", error));
    }

    private DetachedStream DetachNow()
    {
        // What was read ahead and not delivered: the unconsumed part of _in (a message handed out by ReadMessageAsync
        // counts as delivered), then what arrived behind it.
        int held = _inHeld;
        var pending = _in.Span.Slice(held);
        var late = _x?.Late;
        var bytes = new byte[pending.Length + (late?.Length ?? 0)];
        pending.CopyTo(bytes);
        late?.Span.CopyTo(bytes.AsSpan(pending.Length));
        _in.Consume(_in.Length - held);
        late?.Clear();
        var result = new DetachedStream(Fd, bytes, Is(State.PeerEnded), _owner?.Holder);
        Set(State.Detaching, false);
        FinishClose(Net.CloseReason.Detached, null);
        return result;
    }
}
