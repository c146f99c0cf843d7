using System.Threading.Tasks.Sources;

namespace LinuxEvent.Net;

/// <summary>
/// One reusable cross-thread call of a <see cref="LoopStreamAdapter"/> (one per direction: read, write, flush): the
/// calling thread posts it to the loop, the loop runs the <see cref="LoopStream"/> call, and its outcome completes this
/// source off the loop. Nothing is allocated per call: the post is a struct in the loop's list, the loop-side await
/// uses a cached delegate, and the hand-back to the thread pool queues this object itself.
/// </summary>
internal sealed class MarshalledStreamCall : IValueTaskSource<int>, IValueTaskSource, IThreadPoolWorkItem
{
    internal enum Kind : byte { Read, Write, Flush }

    private static readonly Action<Loop, object?> s_runOnLoop = static (_, s) => ((MarshalledStreamCall)s!).RunOnLoop();

    private readonly LoopStream _stream;
    private readonly Kind _kind;
    private readonly Action _onInnerCompleted;
    // Continuations run where Execute runs (a thread-pool thread) or on the awaiter's captured context: never inline on
    // the loop thread, whose callbacks must not run user code that may block.
    private ManualResetValueTaskSourceCore<int> _core;
    private Memory<byte> _readBuffer;
    private ReadOnlyMemory<byte> _writeBuffer;
    private CancellationToken _token;
    private ValueTask<int> _innerRead;
    private ValueTask _innerVoid;
    private int _result;
    private Exception? _error;
    private int _busy;

    public MarshalledStreamCall(LoopStream stream, Kind kind)
    {
        _stream = stream;
        _kind = kind;
        _onInnerCompleted = OnInnerCompleted;
    }

    public ValueTask<int> StartRead(Memory<byte> buffer, CancellationToken token)
    {
        Enter();
        _readBuffer = buffer;
        return TryPost(token) is { } error ? ValueTask.FromException<int>(error) : new ValueTask<int>(this, _core.Version);
    }

    public ValueTask StartWrite(ReadOnlyMemory<byte> buffer, CancellationToken token)
    {
        Enter();
        _writeBuffer = buffer;
        return TryPost(token) is { } error ? ValueTask.FromException(error) : new ValueTask(this, _core.Version);
    }

    public ValueTask StartFlush(CancellationToken token)
    {
        Enter();
        return TryPost(token) is { } error ? ValueTask.FromException(error) : new ValueTask(this, _core.Version);
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"LoopStream.AsStream: another {_kind} is still pending; a stream allows one read and one write at a time (await the previous one first).");
        _core.Reset();
    }

    /// <summary>Posts the call to the loop; returns the error if the loop is disposed (the call is then over).</summary>
    private Exception? TryPost(CancellationToken token)
    {
        _token = token;
        try
        {
            _stream.Loop.Post(s_runOnLoop, this);
            return null;
        }
        catch (ObjectDisposedException ex)
        {
            Clear();
            Volatile.Write(ref _busy, 0);
            return new ObjectDisposedException($"LoopStream.AsStream: the loop is disposed ({ex.Message})", ex);
        }
    }

    /// <summary>On the loop thread (or, once the loop is gone, on the thread that drains its leftovers).</summary>
    private void RunOnLoop()
    {
        try
        {
            if (_token.IsCancellationRequested)
            {
                Finish(0, new OperationCanceledException(_token));
                return;
            }
            switch (_kind)
            {
                case Kind.Read:
                    var read = _stream.ReadAsync(_readBuffer, _token);
                    if (read.IsCompleted) { Finish(read.GetAwaiter().GetResult(), null); return; }
                    _innerRead = read;
                    read.GetAwaiter().UnsafeOnCompleted(_onInnerCompleted);
                    return;
                default:
                    var done = _kind == Kind.Write ? _stream.WriteAsync(_writeBuffer, _token) : _stream.FlushAsync(_token);
                    if (done.IsCompleted) { done.GetAwaiter().GetResult(); Finish(0, null); return; }
                    _innerVoid = done;
                    done.GetAwaiter().UnsafeOnCompleted(_onInnerCompleted);
                    return;
            }
        }
        catch (Exception ex)
        {
            Finish(0, ex);
        }
    }

    /// <summary>The loop-side await resumed (loop thread).</summary>
    private void OnInnerCompleted()
    {
        int result = 0;
        Exception? error = null;
        try
        {
            if (_kind == Kind.Read) result = _innerRead.GetAwaiter().GetResult();
            else _innerVoid.GetAwaiter().GetResult();
        }
        catch (Exception ex) { error = ex; }
        _innerRead = default;
        _innerVoid = default;
        Finish(result, error);
    }

    private void Finish(int result, Exception? error)
    {
        _result = result;
        _error = error;
        Clear();
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    private void Clear()
    {
        _readBuffer = default;
        _writeBuffer = default;
        _token = default;
    }

    /// <summary>Thread pool: completes the caller's awaiter here.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var error = _error;
        _error = null;
        if (error is null) _core.SetResult(_result);
        else _core.SetException(error);
    }

    public int GetResult(short token)
    {
        if (token != _core.Version) return _core.GetResult(token);      // throws: a stale or second await
        try { return _core.GetResult(token); }
        finally { Volatile.Write(ref _busy, 0); }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
