namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes (byte mode). Result: bytes read; 0 at the peer's EOF or after
    /// a local close. Completes at once when input is buffered. A zero-length <paramref name="buffer"/> waits, like a
    /// socket's zero-byte read, until input is buffered (or EOF) and completes with 0 without consuming anything: a
    /// caller can wait for data before it rents a buffer (SslStream does). While the reader is between calls the stream keeps
    /// reading ahead up to <see cref="LoopStreamOptions.ReadAheadLimit"/>. Cancelling the token completes the call
    /// with <see cref="OperationCanceledException"/> and loses no data (bytes that arrive stay buffered for the next call).
    /// One read may be pending at a time; continuations resume on the loop thread.
    /// </summary>
    /// <exception cref="LinuxEventSocketException">The stream failed with an I/O error (also thrown by later calls).</exception>
    /// <exception cref="InvalidOperationException">Callback mode, message mode, or another read is pending.</exception>
    /// <remarks>In async mode the <see cref="PeerEndBehavior"/> is not applied: a read returning 0 tells the owner the
    /// peer is done, and the owner closes the stream (usually after writing its last reply).</remarks>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.ReadAsync");
        EnterAsyncRead(nameof(ReadAsync));
        if (_codec is not null) throw new InvalidOperationException("LoopStream.ReadAsync: the stream has a codec; use ReadMessageAsync.");
        if (_readWaiter?.IsBusy == true) throw new InvalidOperationException("LoopStream.ReadAsync: another read is pending; await it first.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        MergeLate();
        // A zero-length buffer falls through: it completes with 0 once input is buffered or at EOF, consuming nothing.
        if (_in.Length > 0)
        {
            int n = TakeInto(buffer.Span);
            UpdateReadInterest();
            return new ValueTask<int>(n);
        }
        if (Is(State.Closed) || _channel.HasPendingError) return ClosedReadResult<int>(0);
        if (Is(State.PeerEnded))
        {
            ScheduleEnd();
            return new ValueTask<int>(0);
        }
        var x = X;
        x.ReadWaiter ??= new LoopAwaitable<int>(_loop, _ => CancelRead());
        x.ReadTarget = buffer;
        x.ReadWaiter.Start(cancellationToken);
        UpdateReadInterest();
        return x.ReadWaiter.Task;
    }

    /// <summary>
    /// Reads the next message (message mode). Result: the payload, or null at the peer's EOF or after a local close.
    /// <b>The memory is the stream's own buffer and stays valid only until the next read call</b> on this stream
    /// (copy it to keep it): that is what makes a message read allocation-free.
    /// </summary>
    /// <exception cref="InvalidDataException">The codec rejected the input (the stream closed with <see cref="CloseReason.CodecError"/>).</exception>
    /// <exception cref="LinuxEventSocketException">The stream failed with an I/O error.</exception>
    /// <exception cref="InvalidOperationException">No codec, callback mode, or another read is pending.</exception>
    public ValueTask<ReadOnlyMemory<byte>?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.ReadMessageAsync");
        if (_codec is null) throw new InvalidOperationException("LoopStream.ReadMessageAsync: the stream has no codec (LoopStreamOptions.Codec).");
        EnterAsyncRead(nameof(ReadMessageAsync));
        if (_messageWaiter?.IsBusy == true) throw new InvalidOperationException("LoopStream.ReadMessageAsync: another read is pending; await it first.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<ReadOnlyMemory<byte>?>(cancellationToken);
        ReleaseHeld();
        MergeLate();
        if (!Is(State.Closed) && !_channel.HasPendingError)
        {
            switch (TryTakeMessage(out var message))
            {
                case TakeResult.Message:
                    UpdateReadInterest();
                    return new ValueTask<ReadOnlyMemory<byte>?>(message);
                case TakeResult.End:
                    ScheduleEnd();
                    return new ValueTask<ReadOnlyMemory<byte>?>((ReadOnlyMemory<byte>?)null);
                case TakeResult.Invalid:
                    return ValueTask.FromException<ReadOnlyMemory<byte>?>(Error!);
            }
        }
        if (Is(State.Closed) || _channel.HasPendingError) return ClosedReadResult<ReadOnlyMemory<byte>?>(null);
        var x = X;
        x.MessageWaiter ??= new LoopAwaitable<ReadOnlyMemory<byte>?>(_loop, _ => CancelMessageRead());
        x.MessageWaiter.Start(cancellationToken);
        UpdateReadInterest();
        return x.MessageWaiter.Task;
    }

    /// <summary>
    /// Queues <paramref name="data"/> like <see cref="Write"/> (copied: the caller may reuse its buffer at once) and
    /// completes when the stream is not write-blocked: at once below the high watermark, otherwise when the queue falls
    /// to the low watermark. Cancelling only stops the wait; the data stays queued.
    /// </summary>
    /// <exception cref="LinuxEventSocketException">The stream failed (the data may be partly unsent).</exception>
    /// <exception cref="IOException">The stream was closed before the queue drained.</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.WriteAsync");
        if (ClosedWriteResult() is { } closed) return closed;
        Write(data.Span);
        return AwaitDrain(cancellationToken);
    }

    /// <summary>Frames and queues a message like <see cref="WriteMessage"/>, then waits as <see cref="WriteAsync"/> does.</summary>
    public ValueTask WriteMessageAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.WriteMessageAsync");
        if (ClosedWriteResult() is { } closed) return closed;
        WriteMessage(payload.Span);
        return AwaitDrain(cancellationToken);
    }

    /// <summary>Completes once the write queue is empty (everything written was accepted by the kernel), or throws
    /// if the stream closes first without draining.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckLoopThread("LoopStream.FlushAsync");
        if (ClosedWriteResult() is { } closed) return closed;
        if (QueuedBytes == 0) return default;
        var waiters = X.FlushWaiters ??= new List<TaskCompletionSource>();
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiters.Add(tcs);
        if (cancellationToken.CanBeCanceled) cancellationToken.Register(static s => ((TaskCompletionSource)s!).TrySetCanceled(), tcs);
        return new ValueTask(tcs.Task);
    }

    private void CompleteFlushWaiters(Exception? error)
    {
        var list = _x?.FlushWaiters;
        if (list is null || list.Count == 0) return;
        _x!.FlushWaiters = null;
        foreach (var t in list)
        {
            if (error is null) t.TrySetResult(); else t.TrySetException(error);
        }
    }

    private ValueTask? ClosedWriteResult()
    {
        if (!Is(State.Closed)) return null;
        return ValueTask.FromException(Error ?? new IOException($"LoopStream(fd={Fd}) is closed ({CloseReason})."));
    }

    private ValueTask AwaitDrain(CancellationToken cancellationToken)
    {
        if (!Is(State.WriteBlocked) && !_channel.HasPendingError) return default;
        if (Is(State.Closed)) return ClosedWriteResult() ?? default;
        if (_drainWaiter?.IsBusy == true) throw new InvalidOperationException("LoopStream.WriteAsync: another write is waiting for the queue to drain; await it first.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        var x = X;
        x.DrainWaiter ??= new LoopAwaitable<bool>(_loop, static a => a.SetCanceled());
        x.DrainWaiter.Start(cancellationToken);
        return x.DrainWaiter.VoidTask;
    }

    private void EnterAsyncRead(string call)
    {
        if (_mode == ReadMode.Callback) throw new InvalidOperationException($"LoopStream.{call}: the stream is in callback mode (Start was called); one stream uses one reading mode.");
        _mode = ReadMode.Async;
    }

    private ValueTask<T> ClosedReadResult<T>(T endValue)
    {
        if (CloseReason is Net.CloseReason.Error or Net.CloseReason.CodecError && Error is not null) return ValueTask.FromException<T>(Error);
        return new ValueTask<T>(endValue);
    }

    private int TakeInto(Span<byte> target)
    {
        int n = Math.Min(target.Length, _in.Length);
        _in.Span.Slice(0, n).CopyTo(target);
        _in.Consume(n);
        TrimInput();
        return n;
    }

    private void ReleaseHeld()
    {
        if (_inHeld == 0) return;
        _in.Consume(_inHeld);
        _x!.InHeld = 0;
        TrimInput();
    }

    private void MergeLate()
    {
        var late = _x?.Late;
        if (_inHeld > 0 || late is null || late.Length == 0) return;
        _in.Append(late.Span);
        late.Release();
    }

    private enum TakeResult : byte { NotYet, Message, End, Invalid }

    /// <summary>Decodes the next message from buffered input; a returned message is held until the next read call.</summary>
    private TakeResult TryTakeMessage(out ReadOnlyMemory<byte> message)
    {
        message = default;
        if (_in.Length == 0) return Is(State.PeerEnded) ? TakeResult.End : TakeResult.NotYet;
        var status = _codec!.Decode(_in.Span, out var frame);
        if (status == FrameStatus.NeedMoreData)
        {
            if (!Is(State.PeerEnded)) return TakeResult.NotYet;
            status = _codec.DecodeAtEnd(_in.Span, out frame);
        }
        if (status == FrameStatus.Invalid)
        {
            FailCodec(frame.Error);
            return TakeResult.Invalid;
        }
        message = _in.Memory.Slice(frame.PayloadOffset, frame.PayloadLength);
        X.InHeld = frame.Consumed;
        return TakeResult.Message;
    }

    /// <summary>Async mode: completes pending reads from buffered input or EOF. Called from I/O dispatch.</summary>
    private void SatisfyWaiters()
    {
        if (_readWaiter?.IsPending == true)
        {
            if (_in.Length > 0)
            {
                int n = TakeInto(_x!.ReadTarget.Span);
                _x.ReadTarget = default;
                _readWaiter.SetResult(n);
            }
            else if (Is(State.PeerEnded))
            {
                _x!.ReadTarget = default;
                _readWaiter.SetResult(0);
                ScheduleEnd();
            }
        }
        if (_messageWaiter?.IsPending == true && _inHeld == 0)
        {
            switch (TryTakeMessage(out var message))
            {
                case TakeResult.Message:
                    _messageWaiter.SetResult(message);
                    break;
                case TakeResult.End:
                    _messageWaiter.SetResult(null);
                    ScheduleEnd();
                    break;
            }
        }
    }

    private void CancelRead()
    {
        if (_x is not null) _x.ReadTarget = default;
        _readWaiter!.SetCanceled();
        UpdateReadInterest();
    }

    private void CancelMessageRead()
    {
        _messageWaiter!.SetCanceled();
        UpdateReadInterest();
    }

    /// <summary>Async mode: reports EOF through <see cref="OnEnd"/> from the deferred phase (the policy is left to the owner).</summary>
    private void ScheduleEnd()
    {
        if (Is(State.EndDelivered)) return;
        Set(State.EndDelivered, true);
        _loop.Defer(static s => { var st = (LoopStream)s!; if (!st.Is(State.Closed)) st.Invoke(st.OnEnd); st.RaiseEndReached(); }, this);
    }
}
