using LinuxEvent.Async;

namespace LinuxEvent;

public abstract partial class Loop
{
    private LoopSynchronizationContext? _syncContext;
    private LoopTaskScheduler? _taskScheduler;
    private SynchronizationContext? _savedContext;
    private readonly Stack<AsyncOp> _asyncPool = new();

    /// <summary>This loop's synchronization context (installed on the loop thread while it runs).</summary>
    public LoopSynchronizationContext SynchronizationContext => _syncContext ??= new LoopSynchronizationContext(this);

    /// <summary>A task scheduler running tasks on this loop's thread, e.g. for <c>Task.Factory.StartNew(..., scheduler)</c>.</summary>
    public TaskScheduler TaskScheduler => _taskScheduler ??= new LoopTaskScheduler(this);

    /// <summary>Installs the loop's synchronization context on the loop thread for the duration of Run/RunOnce.</summary>
    private void OnEnterLoopThread()
    {
        _savedContext = System.Threading.SynchronizationContext.Current;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
    }

    private void OnExitLoopThread()
    {
        System.Threading.SynchronizationContext.SetSynchronizationContext(_savedContext);
        _savedContext = null;
    }

    /// <summary>
    /// Runs the loop until <paramref name="main"/>'s task completes, then returns its result or rethrows its exception.
    /// <paramref name="main"/> starts on the loop thread with the loop's synchronization context, so every
    /// <c>await</c> in it resumes on the loop: the code reads as if it blocks, while other tasks run in between.
    /// <see cref="Stop"/> ends it early (Run returns without waiting for <paramref name="main"/>). A callback that
    /// throws with no <see cref="UnhandledException"/> handler ends it by rethrowing, as in <see cref="Run()"/>.
    /// </summary>
    public void Run(Func<Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        Enter();
        try
        {
            Task task;
            try { task = main(); }
            catch (Exception ex) { task = Task.FromException(ex); }
            // main may finish on another thread (Task.Delay, a TaskCompletionSource set elsewhere, ConfigureAwait(false)):
            // nothing would then wake a loop blocked in the kernel, so its completion wakes the loop itself.
            if (!task.IsCompleted)
                task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => { if (!IsOnLoopThread) WakeIfAlive(); });
            while (!task.IsCompleted)
            {
                if (Interlocked.Exchange(ref _stopRequested, 0) == 1) return;
                Iterate(-1);
                ThrowPendingErrors();
            }
            task.GetAwaiter().GetResult();
        }
        finally { Exit(); }
    }

    /// <summary>
    /// Starts <paramref name="work"/> as a lightweight task on the loop (on the next dispatch, never inline). Tasks are
    /// isolated: an exception escaping one goes to <see cref="UnhandledException"/> (with no handler: rethrown from
    /// Run, as for callbacks) and does not disturb the others. Thread-safe. The returned task completes with the
    /// outcome for callers that want to await it.
    /// </summary>
    public Task Spawn(Func<Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfDisposed();
        var spawned = new SpawnedTask(this, work);
        if (IsOnLoopThread) Defer(static s => ((SpawnedTask)s!).Start(), spawned);
        else Post(static (_, s) => ((SpawnedTask)s!).Start(), spawned);
        return spawned.Completion.Task;
    }

    /// <summary>
    /// <see cref="Spawn(Func{Task})"/> with a token passed to <paramref name="work"/>. A token already cancelled returns a
    /// cancelled task and starts nothing; a task that ends with an <see cref="OperationCanceledException"/> for this
    /// token completes cancelled and is not reported to <see cref="UnhandledException"/> (cancelling is not a failure).
    /// </summary>
    public Task Spawn(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        ThrowIfDisposed();
        var spawned = new SpawnedTask(this, () => work(cancellationToken), cancellationToken);
        if (IsOnLoopThread) Defer(static s => ((SpawnedTask)s!).Start(), spawned);
        else Post(static (_, s) => ((SpawnedTask)s!).Start(), spawned);
        return spawned.Completion.Task;
    }

    /// <summary>
    /// <see cref="Run(Func{Task})"/> that also stops when <paramref name="cancellationToken"/> is cancelled: the loop
    /// stops as with <see cref="Stop"/> and Run returns without waiting for <paramref name="main"/> (pass the same token
    /// to <paramref name="main"/>'s awaits to end it too).
    /// </summary>
    public void Run(Func<Task> main, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(main);
        if (cancellationToken.IsCancellationRequested) return;
        using var stop = cancellationToken.UnsafeRegister(static s => ((Loop)s!).Stop(), this);
        Run(main);
    }

    private sealed class SpawnedTask(Loop loop, Func<Task> work, CancellationToken token = default)
    {
        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async void Start()
        {
            try
            {
                await work();
                Completion.TrySetResult();
            }
            catch (Exception ex)
            {
                if (ex is OperationCanceledException oce && token.CanBeCanceled && oce.CancellationToken == token)
                {
                    Completion.TrySetCanceled(token);
                    return;
                }
                Completion.TrySetException(ex);
                _ = Completion.Task.Exception;       // observed here; reported below
                loop.ReportException(ex);
            }
        }
    }

    // ------------------------------------------------------------------ pooled awaitables

    internal AsyncOp RentAsyncOp(AsyncKind kind, CancellationToken token)
    {
        var op = _asyncPool.Count > 0 ? _asyncPool.Pop() : new AsyncOp(this);
        op.Kind = kind;
        op.Start(token);
        return op;
    }

    internal void ReturnAsyncOp(AsyncOp op)
    {
        if (IsOnLoopThread && _asyncPool.Count < 4096) _asyncPool.Push(op);
    }

    /// <summary>A cancellation request for <paramref name="op"/>'s use number <paramref name="version"/>, on the loop thread.</summary>
    internal void CancelAsync(AsyncOp op, short version)
    {
        if (op.Version != version || !op.IsPending) return;      // already completed (and maybe reused): nothing to cancel
        if (op.Kind == AsyncKind.Delay)
        {
            op.Timer?.Cancel();
            op.Cancelled();
            return;
        }
        Driver.Cancel(op);
    }


    // ------------------------------------------------------------------ async API (both models)

    /// <summary>
    /// Completes after <paramref name="delay"/> on the loop's clock (virtual under a Fake backend). Allocation-free in
    /// steady state. Cancelling the token completes it with <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public ValueTask DelayAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "Loop.DelayAsync: the delay must not be negative.");
        CheckThread(nameof(DelayAsync));
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        var op = RentAsyncOp(AsyncKind.Delay, cancellationToken);
        if (op.Timer is null) op.Timer = After(delay, op, static (_, o) => o.Complete(0));
        else op.Timer.Restart(delay);
        op.Armed();
        return new ValueTask(op, op.Version);
    }
}
