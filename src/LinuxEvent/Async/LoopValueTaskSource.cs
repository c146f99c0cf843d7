using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace LinuxEvent;

/// <summary>
/// The reusable awaitable behind every loop ValueTask (the core's pooled async operations and LinuxEvent.Net's stream
/// and listener waits): one use at a time, a version token per use so a stale or double await throws instead of
/// observing another use's result, continuations that always resume on the loop thread from its deferred phase (never
/// inline inside the completing I/O callback) without allocating, and cancellation by token.
/// </summary>
/// <remarks>
/// <para><b>Use protocol</b> (loop thread): <see cref="BeginUse"/>, arm the operation, then
/// <see cref="ArmCancellation"/> as the last step: a token that is already cancelled (or is cancelled concurrently)
/// then reaches <see cref="OnCancelRequested"/> only once the use is fully armed, so the owner can undo what it armed.
/// The owner settles the use with <see cref="SetResult"/> or <see cref="SetException"/> (or <see cref="SetCanceled"/>).</para>
/// <para><b>Scheduling</b>: on the loop thread (or the thread draining the loop's disposal) the continuation goes to the
/// loop's ready ring; once the loop is gone it runs on the thread pool so awaiting code still resumes; from other
/// threads it is posted. The scheduling context the awaiter asks for is deliberately ignored: the loop is the context.</para>
/// </remarks>
public abstract class LoopValueTaskSource<T> : IValueTaskSource<T>, IValueTaskSource, ICrossThreadCancel
{
    private static readonly Action<object?> s_completedSentinel = static _ => throw new InvalidOperationException("Completion sentinel invoked.");
    private static readonly Action<object?> s_runContinuation = static s => ((LoopValueTaskSource<T>)s!).RunContinuation();
    private static readonly ContextCallback s_runInContext = static s => { var a = (LoopValueTaskSource<T>)s!; a._runningContinuation!(a._runningState); };

    /// <summary>The loop whose thread continuations resume on.</summary>
    public Loop Loop { get; }
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

    /// <summary>Creates a source whose continuations resume on <paramref name="loop"/>'s thread.</summary>
    protected LoopValueTaskSource(Loop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The token of the current use.</summary>
    public short Version => _version;

    /// <summary>True between <see cref="BeginUse"/> and the settlement of that use.</summary>
    public bool IsPending => _pending;

    /// <summary>
    /// True while a use is pending, or settled with an awaiter whose continuation has not consumed the result yet: a new
    /// use must not start then (it would take over the continuation and retire a result someone is about to read).
    /// </summary>
    public bool IsBusy => _pending || (_completed && _continuation is not null && !ReferenceEquals(_continuation, s_completedSentinel));

    /// <summary>The cancellation token of the current use.</summary>
    protected CancellationToken Token => _token;

    /// <summary>Starts a use. A previous use that settled but was never awaited is retired (its token stops working).</summary>
    protected void BeginUse(CancellationToken token)
    {
        if (IsBusy)
            throw new InvalidOperationException("The previous operation of this kind has not finished yet (its awaiter has not resumed); await it first.");
        if (_completed)
        {
            _version++;
            _continuation = null;
            _continuationState = null;
        }
        _pending = true;
        _completed = false;
        _error = null;
        _result = default!;
        _token = token;
    }

    /// <summary>Registers the use's token; call it last, once the use is armed (see the type remarks).</summary>
    protected void ArmCancellation()
    {
        if (_pending && _token.CanBeCanceled)
            _registration = _token.UnsafeRegister(static (s, _) => ((LoopValueTaskSource<T>)s!).CancelFromToken(), this);
    }

    private void CancelFromToken()
    {
        short version = _version;
        if (Loop.IsOnLoopThread) CancelOnLoop(version);
        else
        {
            // From another thread (CancelAfter's timer, a storm of CancellationTokenSource.Cancel calls): hand the source
            // itself to the loop, with the use it targets in a field rather than in a boxed tuple, so a cancel costs no
            // allocation beyond the token's own. If two uses' cancels race, the field holds the later one; the earlier
            // use is then either the current one (and cancelled, as asked) or retired (and the version check skips it).
            Volatile.Write(ref _cancelVersion, version);
            if (Interlocked.Exchange(ref _cancelQueued, 1) == 0) Loop.PostCancel(this);
        }
    }

    private int _cancelVersion, _cancelQueued;
    private ICrossThreadCancel? _nextCancel;

    ICrossThreadCancel? ICrossThreadCancel.NextCancel { get => _nextCancel; set => _nextCancel = value; }

    void ICrossThreadCancel.RunCancel()
    {
        Volatile.Write(ref _cancelQueued, 0);
        CancelOnLoop((short)Volatile.Read(ref _cancelVersion));
    }

    private void CancelOnLoop(short version)
    {
        if (version != _version || !_pending) return;
        // The cancel may run inline inside a token registration or inside CancellationTokenSource.Cancel: an exception
        // (e.g. a full submission queue refusing the cancel request) must not escape into those callers. The use stays
        // pending (its operation is still in the kernel and settles by itself); the error goes to the loop's handler.
        try { OnCancelRequested(); }
        catch (Exception ex) { Loop.ReportException(ex); }
    }

    /// <summary>
    /// The token of a pending use was cancelled (on the loop thread). Undo what the use armed, then settle it (normally
    /// with <see cref="SetCanceled"/>), or let an operation already in the kernel settle it as Cancelled.
    /// </summary>
    protected abstract void OnCancelRequested();

    /// <summary>Settles the use with a result (loop thread). Ignored if it is not pending.</summary>
    public void SetResult(T result)
    {
        if (!_pending) return;
        _result = result;
        Settle();
    }

    /// <summary>Settles the use with an error (loop thread). Ignored if it is not pending.</summary>
    public void SetException(Exception error)
    {
        if (!_pending) return;
        _error = ExceptionDispatchInfo.Capture(error);
        Settle();
    }

    /// <summary>Settles the use as cancelled by its token.</summary>
    public void SetCanceled() => SetException(new OperationCanceledException(_token));

    private void Settle()
    {
        _pending = false;
        // Disposed before anything else, so a registration can never fire into a later use of this object.
        _registration.Dispose();
        _registration = default;
        _completed = true;
        var c = _continuation ?? Interlocked.CompareExchange(ref _continuation, s_completedSentinel, null);
        if (c is not null && !ReferenceEquals(c, s_completedSentinel)) Schedule();
    }

    private void Schedule()
    {
        if (Loop.CanDeferHere || (!Loop.IsRunning && !Loop.IsDisposed)) Loop.Defer(s_runContinuation, this);
        else if (!Loop.TryPostInternal(static (_, s) => ((LoopValueTaskSource<T>)s!).RunContinuation(), this))
            Loop.RunAfterDisposal(s_runContinuation, this);
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
            throw new InvalidOperationException("This ValueTask was already awaited (or its source was reused). A LinuxEvent ValueTask may be awaited once; use AsTask() to await it more than once.");
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token)
    {
        Validate(token);
        if (!_completed) return ValueTaskSourceStatus.Pending;
        if (_error is null) return ValueTaskSourceStatus.Succeeded;
        return _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Faulted;
    }

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Validate(token);
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0) _executionContext = ExecutionContext.Capture();
        _continuationState = state;
        var prev = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (prev is null) return;
        if (!ReferenceEquals(prev, s_completedSentinel)) throw new InvalidOperationException("A LinuxEvent ValueTask may be awaited once.");
        _continuation = continuation;            // settled before the awaiter registered: schedule now
        Schedule();
    }

    /// <inheritdoc />
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
        _token = default;
        OnConsumed();
        error?.Throw();
        return result;
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    /// <summary>Called once a use's result was taken (e.g. to return a pooled source to its pool).</summary>
    protected virtual void OnConsumed() { }
}
