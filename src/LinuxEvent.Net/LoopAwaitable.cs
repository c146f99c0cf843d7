using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace LinuxEvent.Net;

/// <summary>
/// A reusable awaitable owned by one object (a stream's pending read, its pending drain): one use at a time, a version
/// token per use so a stale or double await throws instead of reading another use's result, and continuations that
/// always resume on the loop thread from the loop's deferred phase, never inline inside the completing I/O callback.
/// Allocation-free per use (the same pattern as the core's pooled async operations).
/// </summary>
internal sealed class LoopAwaitable<T> : IValueTaskSource<T>, IValueTaskSource
{
    private static readonly Action<object?> s_completedSentinel = static _ => throw new InvalidOperationException("LoopAwaitable completion sentinel invoked.");
    private static readonly Action<object?> s_runContinuation = static s => ((LoopAwaitable<T>)s!).RunContinuation();
    private static readonly ContextCallback s_runInContext = static s => { var a = (LoopAwaitable<T>)s!; a._runningContinuation!(a._runningState); };

    private readonly Loop _loop;
    private readonly Action<LoopAwaitable<T>> _onCancel;
    private short _version;
    private bool _pending, _completed;
    private T _result = default!;
    private ExceptionDispatchInfo? _error;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExecutionContext? _executionContext;
    private Action<object?>? _runningContinuation;
    private object? _runningState;
    private CancellationToken _token;
    private CancellationTokenRegistration _registration;

    /// <param name="loop">The loop continuations resume on.</param>
    /// <param name="onCancel">Runs on the loop thread when the token of a pending use is cancelled; it must settle the
    /// use (normally with <see cref="SetCanceled"/>) after undoing whatever the owner armed for it.</param>
    public LoopAwaitable(Loop loop, Action<LoopAwaitable<T>> onCancel)
    {
        _loop = loop;
        _onCancel = onCancel;
    }

    /// <summary>True between <see cref="Start"/> and the settlement of that use.</summary>
    public bool IsPending => _pending;

    /// <summary>Begins a use and returns its awaitable. The previous use must have been awaited (or never handed out).</summary>
    public void Start(CancellationToken token)
    {
        if (_completed)
        {
            // The previous use settled but was never awaited: retire its token so it cannot observe this use.
            _version++;
            _continuation = null;
            _continuationState = null;
        }
        _pending = true;
        _completed = false;
        _error = null;
        _result = default!;
        _token = token;
        if (token.CanBeCanceled)
            _registration = token.UnsafeRegister(static (s, _) => ((LoopAwaitable<T>)s!).CancelFromToken(), this);
    }

    public ValueTask<T> Task => new(this, _version);

    public ValueTask VoidTask => new(this, _version);

    private void CancelFromToken()
    {
        short version = _version;
        if (_loop.IsOnLoopThread) CancelOnLoop(version);
        else
        {
            try { _loop.Post(static (_, s) => { var (a, v) = ((LoopAwaitable<T>, short))s!; a.CancelOnLoop(v); }, (this, version)); }
            catch (ObjectDisposedException) { }
        }
    }

    private void CancelOnLoop(short version)
    {
        if (version == _version && _pending) _onCancel(this);
    }

    public void SetResult(T result)
    {
        if (!_pending) return;
        _result = result;
        Settle();
    }

    public void SetException(Exception error)
    {
        if (!_pending) return;
        _error = ExceptionDispatchInfo.Capture(error);
        Settle();
    }

    public void SetCanceled() => SetException(new OperationCanceledException(_token));

    private void Settle()
    {
        _pending = false;
        _registration.Dispose();
        _registration = default;
        _completed = true;
        var c = _continuation ?? Interlocked.CompareExchange(ref _continuation, s_completedSentinel, null);
        if (c is not null && !ReferenceEquals(c, s_completedSentinel)) Schedule();
    }

    private void Schedule()
    {
        // As in the core's AsyncOp: on the loop (or the thread draining its disposal) queue it; once the loop is gone
        // run it on the thread pool so the awaiting code still resumes; otherwise post it (thread-safe).
        if (_loop.CanDeferHere || (!_loop.IsRunning && !_loop.IsDisposed)) _loop.Defer(s_runContinuation, this);
        else if (_loop.IsDisposed) Loop.RunAfterDisposal(s_runContinuation, this);
        else
        {
            try { _loop.Post(static (_, s) => ((LoopAwaitable<T>)s!).RunContinuation(), this); }
            catch (ObjectDisposedException) { Loop.RunAfterDisposal(s_runContinuation, this); }
        }
    }

    private void RunContinuation()
    {
        var c = _continuation!;
        var st = _continuationState;
        var ec = _executionContext;
        _executionContext = null;
        if (ec is null) { c(st); return; }
        _runningContinuation = c;
        _runningState = st;
        ExecutionContext.Run(ec, s_runInContext, this);
    }

    private void Validate(short token)
    {
        if (token != _version)
            throw new InvalidOperationException("This ValueTask was already awaited (or its source was reused). Await a LinuxEvent.Net ValueTask once; use AsTask() to await it more than once.");
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        Validate(token);
        if (!_completed) return ValueTaskSourceStatus.Pending;
        if (_error is null) return ValueTaskSourceStatus.Succeeded;
        return _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Validate(token);
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0) _executionContext = ExecutionContext.Capture();
        _continuationState = state;
        var prev = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (prev is null) return;
        if (!ReferenceEquals(prev, s_completedSentinel)) throw new InvalidOperationException("A LinuxEvent.Net ValueTask may be awaited once.");
        _continuation = continuation;
        Schedule();
    }

    public T GetResult(short token)
    {
        Validate(token);
        if (!_completed) throw new InvalidOperationException("The operation has not completed yet; await the ValueTask instead of reading its result.");
        var error = _error;
        var result = _result;
        _version++;
        _completed = false;
        _error = null;
        _result = default!;
        _continuation = null;
        _continuationState = null;
        _runningContinuation = null;
        _runningState = null;
        error?.Throw();
        return result;
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);
}
