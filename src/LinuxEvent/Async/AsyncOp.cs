using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace LinuxEvent.Async;

/// <summary>What an <see cref="AsyncOp"/> is doing (reactor retries the matching syscall on readiness).</summary>
internal enum AsyncKind : byte { None, Read, Write, Receive, Send, Accept, Connect, WaitReadable, WaitWritable, Delay }

/// <summary>
/// A pooled, reusable awaitable for one async operation of a loop. Implements <see cref="IValueTaskSource{TResult}"/>
/// with a version token: every reuse bumps the version, so awaiting a ValueTask twice, or after its source was reused,
/// throws <see cref="InvalidOperationException"/> instead of observing another operation's result.
/// </summary>
/// <remarks>
/// Continuations always resume on the loop thread from the loop's deferred phase (never inline inside the completion
/// handling of another operation), in completion order, and without allocating: the continuation and its state are
/// queued directly on the loop's ready ring. The scheduling context requested by the awaiter is deliberately ignored,
/// since the loop is the only context loop operations are meant to resume on.
/// </remarks>
internal sealed class AsyncOp : IValueTaskSource<int>, IValueTaskSource
{
    private static readonly Action<object?> s_completedSentinel = static _ => throw new InvalidOperationException("AsyncOp completion sentinel invoked.");
    private static readonly Action<object?> s_runContinuation = static s => ((AsyncOp)s!).RunContinuation();
    private static readonly ContextCallback s_runInContext = static s => { var op = (AsyncOp)s!; op._pendingContinuation!(op._pendingState); };

    internal readonly Loop Loop;
    private short _version;
    private bool _completed;
    private int _result;
    private ExceptionDispatchInfo? _error;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExecutionContext? _executionContext;
    private Action<object?>? _pendingContinuation;
    private object? _pendingState;

    // Operation arguments (reused).
    internal AsyncKind Kind;
    internal int Fd;
    internal Memory<byte> Buffer;
    internal ReadOnlyMemory<byte> ConstBuffer;
    internal CancellationToken Token;
    private CancellationTokenRegistration _registration;
    internal TimerHandle? Timer;                  // DelayAsync: created once, Restart'ed on reuse
    internal Operation? ProactorOperation;        // proactor: created once, resubmitted on reuse
    internal object? ModelState;                  // reactor: the fd's readiness state

    internal AsyncOp(Loop loop) => Loop = loop;

    public short Version => _version;

    public bool IsPending => !_completed;

    /// <summary>Arms cancellation for this use. The callback may run on any thread; it hands the request to the loop.</summary>
    internal void Start(CancellationToken token)
    {
        _completed = false;
        Token = token;
        if (token.CanBeCanceled)
            _registration = token.UnsafeRegister(static (s, _) => ((AsyncOp)s!).CancelFromToken(), this);
    }

    private void CancelFromToken()
    {
        // Never inline: a token cancelled while the operation is being set up (between the caller's check and this
        // registration, or synchronously inside UnsafeRegister) would otherwise act on a half-built operation. The
        // version makes the deferred request harmless if the operation completes and is reused meanwhile.
        short version = _version;
        if (Loop.IsOnLoopThread) Loop.Defer(static s => { var (op, v) = ((AsyncOp, short))s!; op.Loop.CancelAsync(op, v); }, (this, version));
        else
        {
            try { Loop.Post(static (l, s) => { var (op, v) = ((AsyncOp, short))s!; l.CancelAsync(op, v); }, (this, version)); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Completes with a result. Loop thread only. The token registration is disposed before anything else,
    /// so it can never fire into a later use of this object.</summary>
    internal void Complete(int result)
    {
        if (_completed) return;
        _registration.Dispose();
        _registration = default;
        _result = result;
        _completed = true;
        SignalCompletion();
    }

    internal void Fail(Exception error)
    {
        if (_completed) return;
        _registration.Dispose();
        _registration = default;
        _error = ExceptionDispatchInfo.Capture(error);
        _completed = true;
        SignalCompletion();
    }

    internal void Cancelled() => Fail(new OperationCanceledException(Token));

    private void SignalCompletion()
    {
        var c = _continuation ?? Interlocked.CompareExchange(ref _continuation, s_completedSentinel, null);
        if (c is not null && !ReferenceEquals(c, s_completedSentinel)) ScheduleContinuation();
    }

    private void ScheduleContinuation()
    {
        if (Loop.CanDeferHere || (!Loop.IsRunning && !Loop.IsDisposed)) Loop.Defer(s_runContinuation, this);
        else if (Loop.IsDisposed) Loop.RunAfterDisposal(s_runContinuation, this);
        else
        {
            try { Loop.Post(static (_, s) => ((AsyncOp)s!).RunContinuation(), this); }
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
        _pendingContinuation = c;
        _pendingState = st;
        ExecutionContext.Run(ec, s_runInContext, this);
    }

    private void ValidateToken(short token)
    {
        if (token != _version)
            throw new InvalidOperationException("This ValueTask was already awaited (or its operation was reused). A loop ValueTask may be awaited once; use AsTask() to await it more than once.");
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        ValidateToken(token);
        if (!_completed) return ValueTaskSourceStatus.Pending;
        if (_error is null) return ValueTaskSourceStatus.Succeeded;
        return _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ValidateToken(token);
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0) _executionContext = ExecutionContext.Capture();
        _continuationState = state;
        var prev = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (prev is null) return;
        if (!ReferenceEquals(prev, s_completedSentinel))
            throw new InvalidOperationException("A loop ValueTask may be awaited once.");
        _continuation = continuation;                 // completed before the awaiter registered: schedule now
        ScheduleContinuation();
    }

    public int GetResult(short token)
    {
        ValidateToken(token);
        if (!_completed) throw new InvalidOperationException("The operation has not completed yet; await the ValueTask instead of reading its result.");
        var error = _error;
        int result = _result;
        Reset();
        error?.Throw();
        return result;
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    private void Reset()
    {
        _version++;
        _error = null;
        _result = 0;
        _continuation = null;
        _continuationState = null;
        _pendingContinuation = null;
        _pendingState = null;
        Kind = AsyncKind.None;
        Buffer = default;
        ConstBuffer = default;
        Token = default;
        ModelState = null;
        Loop.ReturnAsyncOp(this);
    }
}
