namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's stream channel: one level-triggered <see cref="Watcher"/>, with read interest while reading is on
/// and write interest only while output is queued (so an idle connection costs no wakeups). Level-triggered on
/// purpose: a read cap per wakeup cannot lose an edge, and pausing is just turning interest off.
/// </summary>
/// <remarks>
/// <b>Memory.</b> Reads go into the loop's one <see cref="LoopReceiveBuffer"/>, and the output queue's array goes
/// back to the pool as soon as it drains, so between reads an idle connection holds no buffer: only this object and
/// its watcher.
/// </remarks>
internal sealed class ReactorStreamChannel(ReactorLoop loop, int fd, bool isSocket, int receiveBufferSize, IStreamChannelHandler handler)
    : StreamChannel(loop, fd, isSocket, receiveBufferSize, handler)
{
    // The driver is reached through the loop rather than kept in a field: one reference less per connection.
    private ReactorIoDriver Driver => ((ReactorLoop)Loop).ReactorDriver;

    /// <summary>Reads per readiness report when the buffer keeps filling: fewer epoll round trips on a busy stream,
    /// bounded so one stream cannot starve the others (level triggering reports the rest next iteration).</summary>
    private const int MaxReadsPerWake = 4;

    private static readonly Action<Watcher> s_readable = static w => ((ReactorStreamChannel)w.Data!).OnReadable();
    private static readonly Action<Watcher> s_writable = static w => ((ReactorStreamChannel)w.Data!).OnWritable();

    private Watcher? _watcher;
    private bool _write;
    /// <summary>On the driver's end-of-iteration flush list (write coalescing); the queue goes out then.</summary>
    private bool _flushQueued;

    private protected override void SetReadingCore(bool on)
    {
        if (IsReading == on) return;
        IsReading = on;
        Apply();
    }

    private void Apply()
    {
        if (IsClosed) return;
        try
        {
            var w = _watcher;
            if (w is null || !w.IsActive)
            {
                // Created lazily with real interest: a registration with an empty mask would still report EPOLLHUP,
                // level-triggered, to a stream that wants nothing.
                if (!IsReading && !_write) return;
                w = Driver.Watch(Fd, (IsReading ? WatchOptions.Read : 0) | (_write ? WatchOptions.Write : 0), s_readable, s_writable,
                    onError: null, extraEvents: 0, "StreamChannel");
                w.Data = this;
                _watcher = w;
                return;
            }
            if (w.IsReadEnabled != IsReading || w.IsWriteEnabled != _write) w.SetInterest(IsReading, _write);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "epoll_ctl");
        }
    }

    private int Send(ReadOnlySpan<byte> data) => IsSocket ? Driver.Sys.Send(Fd, data) : Driver.Sys.Write(Fd, data);

    private void OnReadable()
    {
        if (IsClosed) return;
        if (!IsReading)
        {
            // EPOLLHUP/EPOLLERR reach the read callback even without read interest: let a write attempt surface the
            // error rather than ignore a level-triggered report (which would repeat every iteration).
            if (_write) OnWritable();
            return;
        }
        var shared = Driver.ReceiveBuffer;
        byte[] rx = shared.Take(ReceiveBufferSize);
        try
        {
            var buffer = rx.AsSpan(0, ReceiveBufferSize);
            for (int i = 0; i < MaxReadsPerWake; i++)
            {
                // The syscalls retry EINTR themselves.
                int n = IsSocket ? Driver.Sys.Receive(Fd, buffer) : Driver.Sys.Read(Fd, buffer);
                if (n > 0)
                {
                    // The owner consumes or copies the span before it returns: the next read reuses the buffer.
                    Handler.OnReceived(buffer.Slice(0, n));
                    if (n < buffer.Length || !IsReading || IsClosed) break;
                    continue;
                }
                if (n == 0)
                {
                    IsReading = false;
                    Apply();
                    Handler.OnPeerClosed();
                    break;
                }
                if (n == -Errno.EAGAIN) break;
                Handler.OnFailed(-n, IsSocket ? "recv" : "read");
                break;
            }
        }
        finally
        {
            shared.Return(rx);
        }
    }

    private void OnWritable()
    {
        if (IsClosed) return;
        var queue = Output;
        int sent = 0;
        while (queue.Length > 0)
        {
            var span = queue.Span;
            int n = Send(span);
            if (n > 0)
            {
                queue.Consume(n);
                sent += n;
                if (n < span.Length) break;          // the socket buffer is full: the next try would be EAGAIN
                continue;
            }
            if (n == -Errno.EAGAIN || n == 0) break;
            Handler.OnFailed(-n, IsSocket ? "send" : "write");
            return;
        }
        bool want = queue.Length > 0;
        if (!want) queue.TrimExcess();               // drained: an idle connection keeps no output array
        if (want != _write) { _write = want; Apply(); }
        BytesSent += sent;
        Handler.OnSent(sent);
    }

    /// <summary>Whether a write from here should wait for the end of the iteration: coalescing is on and the loop is
    /// running on this thread (so an end of iteration is coming).</summary>
    private bool ShouldCoalesce => Driver.CoalesceWrites && Loop.IsOnLoopThread;

    private void QueueFlush()
    {
        _flushQueued = true;
        Driver.QueueFlush(this);
    }

    /// <summary>The end-of-iteration flush: what this iteration wrote goes out in one send (more only if the kernel takes
    /// it in parts), then progress is reported as for a writability report.</summary>
    internal void FlushCoalesced()
    {
        _flushQueued = false;
        if (IsClosed || _write) return;              // closed, or already waiting for writability (which sends it)
        OnWritable();
    }

    private protected override void WriteCore(ReadOnlySpan<byte> data)
    {
        if (_flushQueued) { Output.Append(data); return; }
        if ((OutputIfAny?.Length ?? 0) == 0 && !_write && ShouldCoalesce)
        {
            Output.Append(data);
            QueueFlush();
            return;
        }
        if ((OutputIfAny?.Length ?? 0) == 0 && !_write)
        {
            // Nothing queued: try the kernel at once; most writes on a healthy connection end here, copy-free.
            int n = Send(data);
            if (n == data.Length) { BytesSent += n; return; }
            if (n >= 0) { BytesSent += n; data = data.Slice(n); }
            else if (n != -Errno.EAGAIN) { FailDeferred(-n, IsSocket ? "send" : "write"); return; }
        }
        Output.Append(data);
        if (!_write) { _write = true; Apply(); }
    }

    private protected override void Kick()
    {
        if (_write || _flushQueued) return;           // writability or the flush is awaited; the queue goes out in order
        if (ShouldCoalesce) { QueueFlush(); return; }
        var queue = Output;
        int n = Send(queue.Span);
        if (n > 0) { queue.Consume(n); BytesSent += n; }
        else if (n != -Errno.EAGAIN && n != 0) { FailDeferred(-n, IsSocket ? "send" : "write"); return; }
        if (queue.Length > 0) { _write = true; Apply(); }
        else queue.TrimExcess();
    }

    private protected override void CloseCore(bool closeFd)
    {
        if (_flushQueued && OutputIfAny is { Length: > 0 } coalesced && !HasPendingError)
        {
            // Written in this iteration and only held back for coalescing: without it these bytes would have gone out
            // inside Write, so a "write the reply, then close" still sends the reply (one non-blocking try).
            int n = Send(coalesced.Span);
            if (n > 0) { coalesced.Consume(n); BytesSent += n; }
        }
        _flushQueued = false;                         // the driver's list skips a closed channel
        IsReading = _write = false;
        if (_watcher is { IsActive: true } w && !Loop.IsDisposed) w.Cancel();
        _watcher = null;
        if (closeFd) CloseFd(Fd);
    }

    public override void ReleaseBuffers() => OutputIfAny?.Release();

    internal override int HeldBufferBytes => OutputIfAny?.Capacity ?? 0;
}
