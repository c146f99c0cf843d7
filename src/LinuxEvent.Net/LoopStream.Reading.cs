namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    // ------------------------------------------------------------------ reading (the same on both models: the channel delivers)

    /// <summary>Whether the driver should have a read armed.</summary>
    private bool WantsRead => !Is(State.Closed) && !Is(State.CodecFailed) && !_channel.HasPendingError && !Is(State.PeerEnded) && !Is(State.ReadPaused) && !Is(State.CloseAfterDrain) && !Is(State.Detaching) && _mode switch
    {
        ReadMode.Callback => true,
        ReadMode.Async => _in.Length + (_x?.Late?.Length ?? 0) < _options.ReadAheadLimit || (_messageWaiter?.IsPending ?? false) && _in.Length < _options.ReadAheadLimit + MaxCodecBacklog,
        _ => false,
    };

    /// <summary>A pending message read may need more than the read-ahead to complete a large frame; the codec's own
    /// limits bound it.</summary>
    private static int MaxCodecBacklog => int.MaxValue / 2;

    private void UpdateReadInterest()
    {
        bool want = WantsRead;
        _channel.SetReading(want);
        UpdateIdleTimer(want);
    }

    private bool CanDeliver => !Is(State.Closed) && !Is(State.CodecFailed) && !_channel.HasPendingError && !Is(State.ReadPaused) && !Is(State.Detaching) && _mode == ReadMode.Callback;

    /// <summary>A chunk arrived from the kernel (the span is the channel's receive buffer).</summary>
    void IStreamChannelHandler.OnReceived(ReadOnlySpan<byte> chunk)
    {
        BytesReceived += chunk.Length;
        _loop.Metrics.RecordReceived(chunk.Length);
        if (Is(State.CodecFailed)) return;               // raced in after the codec failed: nothing more is delivered
        RestartIdleTimer();
        if (_mode == ReadMode.Async)
        {
            if (_inHeld > 0) (_x!.Late ??= new ByteQueue()).Append(chunk);
            else if (_in.Length == 0 && _readWaiter?.IsPending == true)
            {
                // Straight into the pending reader's buffer; only what does not fit is queued.
                var target = _x!.ReadTarget;
                int n = Math.Min(chunk.Length, target.Length);
                chunk.Slice(0, n).CopyTo(target.Span);
                _in.Append(chunk.Slice(n));
                _x.ReadTarget = default;
                _readWaiter.SetResult(n);
            }
            else _in.Append(chunk);
            SatisfyWaiters();
            UpdateReadInterest();
            return;
        }
        if (!CanDeliver || _in.Length > 0)
        {
            // Paused (a proactor receive raced the pause) or older input still waits: keep order by queueing.
            _in.Append(chunk);
            if (CanDeliver) DeliverBuffered();
            return;
        }
        int used;
        if (_codec is null)
        {
            if (!Is(State.InputMode))
            {
                InvokeData(chunk);
                return;
            }
            used = InvokeInput(chunk);
        }
        else used = DecodeAndDeliver(chunk);
        if (used < chunk.Length && !Is(State.Closed) && !_channel.HasPendingError) _in.Append(chunk.Slice(used));
    }

    /// <summary>Delivers buffered input in callback mode, then EOF if it is due.</summary>
    private void DeliverBuffered()
    {
        Set(State.DeliveryScheduled, false);
        if (!CanDeliver) return;
        DeliverInput();
        // Raw chunks are all delivered before EOF; a codec's or an input handler's leftover is settled by DeliverEnd.
        if (Is(State.PeerEnded) && (_in.Length == 0 || _codec is not null || Is(State.InputMode))) DeliverEnd();
    }

    /// <summary>Delivers (offers, for an input handler or a codec) the buffered input in callback mode.</summary>
    private void DeliverInput()
    {
        if (_in.Length > 0)
        {
            if (_codec is null && !Is(State.InputMode))
            {
                // One chunk holds everything buffered; consume first so a callback that pauses does not see it twice.
                var all = _in.Span;
                _in.Clear();
                InvokeData(all);
                // _in's array is not released before the deferred close notification, so `all` stayed valid.
            }
            else
            {
                int used = _codec is null ? InvokeInput(_in.Span) : DecodeAndDeliver(_in.Span);
                if (!Is(State.Closed)) _in.Consume(used);
            }
            TrimInput();
        }
    }

    /// <summary>
    /// Once delivered input is consumed: an empty input queue gives its array back (an idle connection holds no
    /// buffer), a large one holding a small partial frame moves it into a small array. Not while closed: the array
    /// is released by the deferred close notification, after every callback up the stack has returned. Not while a
    /// message read holds a slice of it.
    /// </summary>
    private void TrimInput()
    {
        if (_inHeld == 0 && !Is(State.Closed)) _in.TrimExcess();
    }

    /// <summary>Decodes and delivers messages from <paramref name="input"/> while delivery is allowed; returns bytes consumed.</summary>
    private int DecodeAndDeliver(ReadOnlySpan<byte> input)
    {
        var codec = _codec!;
        int pos = 0;
        while (pos < input.Length && CanDeliver)
        {
            var status = codec.Decode(input.Slice(pos), out var frame);
            if (status == FrameStatus.NeedMoreData) break;
            if (status == FrameStatus.Invalid)
            {
                FailCodec(frame.Error);
                return input.Length;
            }
            var message = input.Slice(pos + frame.PayloadOffset, frame.PayloadLength);
            pos += frame.Consumed;
            InvokeMessage(message);
        }
        return pos;
    }

    private void InvokeData(ReadOnlySpan<byte> data)
    {
        try { OnData?.Invoke(this, data); }
        catch (Exception ex) { _loop.ReportException(ex); }
    }

    /// <summary>Offers <paramref name="input"/> to <see cref="OnInput"/>; returns the bytes it consumed (all of them if it
    /// threw, or returned a count outside 0..length, which is reported as an error).</summary>
    private int InvokeInput(ReadOnlySpan<byte> input)
    {
        var handler = OnInput;
        if (handler is null) return input.Length;
        try
        {
            int used = handler(this, input);
            if ((uint)used <= (uint)input.Length) return used;
            _loop.ReportException(new InvalidOperationException($"LoopStream.OnInput returned {used} for {input.Length} bytes of input; it must return 0..{input.Length}."));
        }
        catch (Exception ex)
        {
            _loop.ReportException(ex);
        }
        return input.Length;
    }

    private void InvokeMessage(ReadOnlySpan<byte> message)
    {
        try { OnMessage?.Invoke(this, message); }
        catch (Exception ex) { _loop.ReportException(ex); }
    }

    private void Invoke(Action<LoopStream>? callback)
    {
        if (callback is null) return;
        try { callback(this); }
        catch (Exception ex) { _loop.ReportException(ex); }
    }

    private void ScheduleDelivery()
    {
        if (Is(State.DeliveryScheduled)) return;
        Set(State.DeliveryScheduled, true);
        if (_mode == ReadMode.Async) _loop.Defer(static s => { var st = (LoopStream)s!; st.Set(State.DeliveryScheduled, false); st.SatisfyWaiters(); }, this);
        else _loop.Defer(s_deliverBuffered, this);
    }

    /// <summary>The peer ended its side.</summary>
    void IStreamChannelHandler.OnPeerClosed()
    {
        if (Is(State.PeerEnded) || Is(State.Closed)) return;
        Set(State.PeerEnded, true);
        UpdateReadInterest();
        if (Is(State.WriteFailed))
        {
            // Everything the reset peer sent is in: deliver it, then close with the send's error (no OnEnd: the
            // connection did not end cleanly).
            ReportFailure(_x!.Error!);
            return;
        }
        if (_mode == ReadMode.Async) SatisfyWaiters();
        else if (CanDeliver) DeliverBuffered();
    }

    /// <summary>Callback mode: everything before EOF was delivered; flush a trailing partial frame, report EOF, apply policy.</summary>
    private void DeliverEnd()
    {
        if (Is(State.EndDelivered) || !Is(State.PeerEnded) || Is(State.Closed) || _channel.HasPendingError) return;
        if (_mode == ReadMode.Callback)
        {
            if (Is(State.ReadPaused)) return;
            if (_in.Length > 0 && Is(State.InputMode))
            {
                _in.Clear();                                 // an input handler's leftover can never complete now
                TrimInput();
            }
            if (_in.Length > 0)
            {
                if (_codec is null) return;                  // DeliverBuffered delivers raw bytes first
                var rest = _in.Span;
                var status = _codec.DecodeAtEnd(rest, out var frame);
                if (status != FrameStatus.Complete) { FailCodec(frame.Error ?? "the stream ended inside a frame"); return; }
                _in.Clear();
                InvokeMessage(rest.Slice(frame.PayloadOffset, frame.PayloadLength));
                if (Is(State.Closed) || _channel.HasPendingError) return;
                TrimInput();
            }
        }
        Set(State.EndDelivered, true);
        Invoke(OnEnd);
        RaiseEndReached();                               // after OnEnd: observers (a child's exit) come after the owner
        ApplyPeerEndPolicy();
    }

    private void ApplyPeerEndPolicy()
    {
        if (Is(State.Closed)) return;
        switch (_options.PeerEnd)
        {
            case PeerEndBehavior.CloseImmediately:
                FinishClose(Net.CloseReason.PeerClosed, null);
                break;
            case PeerEndBehavior.CloseAfterDrain:
                if (Is(State.CloseAfterDrain)) break;                 // the owner already asked; keep its reason
                CloseAfterDrainWith(Net.CloseReason.PeerClosed);
                break;
            default:
                if (Is(State.WriteShut)) FinishClose(Net.CloseReason.PeerClosed, null);   // both directions are done
                break;
        }
    }
}
