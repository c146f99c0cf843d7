using System.Buffers;

namespace LinuxEvent.Net;

/// <summary>
/// <see cref="LoopStream.AsStream(bool)"/>: a <see cref="Stream"/> over a <see cref="LoopStream"/>. On the loop thread
/// its calls are the stream's own; from any other thread they are marshalled onto the loop (see the remarks of
/// <see cref="LoopStream.AsStream(bool)"/> for the contract).
/// </summary>
internal sealed class LoopStreamAdapter : Stream
{
    private readonly LoopStream _stream;
    private readonly Loop _loop;
    private readonly bool _leaveOpen;
    private MarshalledStreamCall? _read, _write, _flush;
    private int _disposed;

    private static readonly Action<Loop, object?> s_closeAfterDrain = static (_, s) => ((LoopStream)s!).CloseAfterDrain();

    public LoopStreamAdapter(LoopStream stream, bool leaveOpen)
    {
        _stream = stream;
        _loop = stream.Loop;
        _leaveOpen = leaveOpen;
    }

    public override bool CanRead => Volatile.Read(ref _disposed) == 0;

    public override bool CanWrite => Volatile.Read(ref _disposed) == 0;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException("LoopStream.AsStream: a connection has no length.");

    public override long Position
    {
        get => throw new NotSupportedException("LoopStream.AsStream: a connection has no position.");
        set => throw new NotSupportedException("LoopStream.AsStream: a connection has no position.");
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("LoopStream.AsStream: a connection cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("LoopStream.AsStream: a connection has no length.");

    public override string ToString() => $"LoopStream.AsStream({_stream})";

    // ------------------------------------------------------------------ async: the stream's own calls on the loop thread

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (_loop.IsOnLoopThread) return _stream.ReadAsync(buffer, cancellationToken);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        return Call(ref _read, MarshalledStreamCall.Kind.Read).StartRead(buffer, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (_loop.IsOnLoopThread) return _stream.WriteAsync(buffer, cancellationToken);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        return Call(ref _write, MarshalledStreamCall.Kind.Write).StartWrite(buffer, cancellationToken);
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        var vt = _loop.IsOnLoopThread ? _stream.FlushAsync(cancellationToken) : Call(ref _flush, MarshalledStreamCall.Kind.Flush).StartFlush(cancellationToken);
        return vt.AsTask();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
        => TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
        => TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

    private MarshalledStreamCall Call(ref MarshalledStreamCall? slot, MarshalledStreamCall.Kind kind)
        => slot ?? Interlocked.CompareExchange(ref slot, new MarshalledStreamCall(_stream, kind), null) ?? slot!;

    // ------------------------------------------------------------------ sync: block another thread, refuse on the loop's

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfDisposed();
        RefuseOnLoopThread("Read", "ReadAsync");
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length, 1));
        try
        {
            int n = Call(ref _read, MarshalledStreamCall.Kind.Read).StartRead(rented.AsMemory(0, buffer.Length), default).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfDisposed();
        RefuseOnLoopThread("Write", "WriteAsync");
        // The array stays valid until the call returns, and the loop copies it into the queue before completing.
        Call(ref _write, MarshalledStreamCall.Kind.Write).StartWrite(buffer.AsMemory(offset, count), default).AsTask().GetAwaiter().GetResult();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfDisposed();
        RefuseOnLoopThread("Write", "WriteAsync");
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length, 1));
        try
        {
            buffer.CopyTo(rented);
            Call(ref _write, MarshalledStreamCall.Kind.Write).StartWrite(rented.AsMemory(0, buffer.Length), default).AsTask().GetAwaiter().GetResult();
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    public override void Flush()
    {
        ThrowIfDisposed();
        // On the loop thread the queue drains by itself; blocking here would stop the loop that drains it.
        if (_loop.IsOnLoopThread) return;
        Call(ref _flush, MarshalledStreamCall.Kind.Flush).StartFlush(default).AsTask().GetAwaiter().GetResult();
    }

    private void RefuseOnLoopThread(string call, string asyncCall)
    {
        if (_loop.IsOnLoopThread)
            throw new InvalidOperationException($"LoopStream.AsStream: a synchronous {call} on the loop thread would block the loop that has to complete it; use {asyncCall}.");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    // ------------------------------------------------------------------ disposal: a graceful close unless leaveOpen

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _leaveOpen) return;
        if (_loop.IsOnLoopThread) { _stream.CloseAfterDrain(); return; }
        try { _loop.Post(s_closeAfterDrain, _stream); }
        catch (ObjectDisposedException) { }      // the loop's disposal closes the stream
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _leaveOpen) return default;
        if (_loop.IsOnLoopThread)
        {
            _stream.CloseAfterDrain();
            return new ValueTask(_stream.Completion);
        }
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _loop.Post(static (_, s) =>
            {
                var (stream, tcs) = ((LoopStream, TaskCompletionSource))s!;
                stream.CloseAfterDrain();
                stream.Completion.ContinueWith(static (_, t) => ((TaskCompletionSource)t!).TrySetResult(), tcs, TaskScheduler.Default);
            }, (_stream, closed));
        }
        catch (ObjectDisposedException) { return default; }
        return new ValueTask(closed.Task);
    }
}
