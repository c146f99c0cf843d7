using System.Runtime.ExceptionServices;
using LinuxEvent.Native;
using LinuxEvent.Timers;

namespace LinuxEvent;

/// <summary>
/// The front door: one event loop, driven by one thread, running one explicitly chosen <see cref="LoopModel"/>.
/// </summary>
/// <remarks>
/// <para><b>Threading.</b> A loop is driven by the thread that calls <see cref="Run()"/> or <see cref="RunOnce"/>.
/// Every member is loop-thread only except <see cref="Post(Action{Loop})"/>, <see cref="Stop"/> and
/// <see cref="Dispose"/>, which are safe from any thread. Calling a loop-thread member from another thread while
/// the loop runs throws <see cref="InvalidOperationException"/>.</para>
/// <para><b>Iteration.</b> One iteration: wait in the kernel (never longer than the next timer deadline, and not at all
/// when work is already queued or a stop was requested), dispatch I/O events, fire due timers in
/// (deadline, scheduling order), run posted actions, then run deferred continuations.
/// Callbacks never run inline from the call that scheduled them.</para>
/// <para><b>Errors.</b> A callback that throws does not kill the loop: the exception goes to
/// <see cref="UnhandledException"/>. With no handler, the loop finishes the current iteration (so no event of that
/// batch is lost), leaves <see cref="Run()"/>/<see cref="RunOnce"/> by rethrowing the exception (an
/// <see cref="AggregateException"/> if several callbacks threw), and is consistent: it can be run again.</para>
/// </remarks>
public abstract partial class Loop : IDisposable
{
    private readonly TimerQueue _timers = new();
    private readonly List<TimerHandle> _due = new();
    private ulong _timerSequence;
    private long _now;

    // Posted work: other threads append under the lock; the loop swaps lists to drain without allocating.
    private readonly object _postLock = new();
    private List<PostItem> _posts = new();
    private List<PostItem> _drainingPosts = new();
    private volatile int _postCount;
    private int _wakePending;
    private int _wakesInFlight;            // eventfd writes started by other threads and not yet finished

    // Deferred loop-thread callbacks (continuations, fake completions): a ring buffer, no allocation in steady state.
    private ReadyItem[] _ready = new ReadyItem[64];
    private int _readyHead, _readyCount;

    private int _stopRequested;
    private readonly object _stateLock = new();
    private int _runningThread;                // managed thread id inside Run/RunOnce, 0 otherwise
    private bool _disposeRequested, _disposed;
    private ManualResetEventSlim? _runExited;
    private List<Exception>? _pendingErrors;
    private int _callbacksRun;

    private protected Loop(LoopModel model)
    {
        Model = model;
    }

    private readonly struct PostItem(Delegate callback, object? state)
    {
        public readonly Delegate Callback = callback;
        public readonly object? State = state;
    }

    private struct ReadyItem
    {
        public Delegate Callback;          // Action<object?> or SendOrPostCallback: same shape, no wrapper allocation
        public object? State;
    }

    // ------------------------------------------------------------------ factory

    /// <summary>Creates a loop of <paramref name="model"/> with that model's default backend (epoll or io_uring).</summary>
    /// <exception cref="LinuxEventUnsupportedException">The kernel lacks what the model needs (e.g. io_uring disabled).</exception>
    public static Loop Create(LoopModel model) => model switch
    {
        LoopModel.Reactor => CreateReactor(),
        LoopModel.Proactor => CreateProactor(),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Loop.Create: unknown LoopModel."),
    };

    /// <summary>Creates a reactor (readiness) loop. Backend <see cref="ReactorBackend.Epoll"/> unless options say otherwise.</summary>
    public static ReactorLoop CreateReactor(ReactorOptions? options = null) => new(options ?? new ReactorOptions());

    /// <summary>
    /// Creates a proactor (completion) loop. Backend <see cref="ProactorBackend.Uring"/> unless options say otherwise.
    /// </summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable (ENOSYS, EPERM from seccomp, or
    /// <c>kernel.io_uring_disabled</c>); the message names the reactor model as the alternative.</exception>
    public static ProactorLoop CreateProactor(ProactorOptions? options = null) => new(options ?? new ProactorOptions());

    // ------------------------------------------------------------------ identity and clock

    /// <summary>The model this loop runs.</summary>
    public LoopModel Model { get; }

    /// <summary>The backend: <c>"epoll"</c>, <c>"uring"</c> or <c>"fake"</c>.</summary>
    public abstract string BackendName { get; }

    /// <summary>
    /// CLOCK_MONOTONIC in nanoseconds, read when the loop is entered and after each kernel wait (and before it when a
    /// timer bounds the wait), so every callback of a batch sees the same time. Under a Fake backend this is the virtual clock, which only moves when the test
    /// advances it or when the loop would otherwise sleep.
    /// </summary>
    public long NowNanoseconds => _now;

    /// <summary>Reads CLOCK_MONOTONIC now, in nanoseconds (the clock <see cref="At(long, Action{Loop})"/> uses for real backends).</summary>
    public static unsafe long MonotonicNanoseconds()
    {
        Libc.Timespec ts;
        Libc.ClockGetTime(Libc.CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1_000_000_000L + ts.tv_nsec;
    }

    /// <summary>The current time source: CLOCK_MONOTONIC for real backends, the virtual clock for fakes.</summary>
    private protected virtual long ReadClock() => MonotonicNanoseconds();

    private protected void UpdateNow() => _now = ReadClock();

    /// <summary>True while <see cref="Run()"/> or <see cref="RunOnce"/> executes on some thread.</summary>
    public bool IsRunning => Volatile.Read(ref _runningThread) != 0;

    /// <summary>
    /// Receives exceptions thrown by callbacks (and by spawned tasks). When null, the loop rethrows from
    /// <see cref="Run()"/>/<see cref="RunOnce"/> after finishing the iteration. If the handler itself throws, that
    /// exception is rethrown the same way.
    /// </summary>
    public Action<Loop, Exception>? UnhandledException { get; set; }

    // ------------------------------------------------------------------ backend hooks

    /// <summary>
    /// Waits up to <paramref name="timeoutNs"/> (-1 = no limit, 0 = poll) and dispatches what arrived. Implementations
    /// must call <see cref="OnWaitReturned"/> between the kernel wait and the dispatch.
    /// </summary>
    private protected abstract void PollBackend(long timeoutNs);

    /// <summary>
    /// Re-reads the clock after the kernel wait and before I/O callbacks run, so they (and timers they schedule) see the
    /// time at which the events arrived, not the time before the wait. Timers due by then fire in this iteration.
    /// </summary>
    internal void OnWaitReturned() => UpdateNow();

    /// <summary>Interrupts a (possibly concurrent) kernel wait. Thread-safe; called at most once per drain.</summary>
    private protected abstract void WakeBackend();

    /// <summary>Releases every kernel resource of the backend. Called once, on a thread not inside the loop.</summary>
    private protected abstract void DisposeBackend();

    /// <summary>Watches an fd the loop itself owns (signalfd, pidfd) for readability, level-triggered.</summary>
    private protected abstract InternalWatch WatchInternal(int fd, Action<object?> onReadable, object? state);


    // ------------------------------------------------------------------ guards

    /// <summary>Throws <see cref="ObjectDisposedException"/> if the loop is disposed (or being disposed).</summary>
    private protected void ThrowIfDisposed()
    {
        if (_disposeRequested) ThrowDisposed();
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(GetType().Name, $"This {BackendName} {Model} loop has been disposed.");

    /// <summary>Enforces "one loop, one thread": loop-thread calls from elsewhere while it runs are rejected.</summary>
    private protected void CheckThread(string call)
    {
        if (_disposeRequested) ThrowDisposed();
        CheckThreadOnly(call);
    }

    /// <summary>"One loop, one thread" alone, for teardown calls that stay valid once disposal has been requested.</summary>
    private protected void CheckThreadOnly(string call)
    {
        int running = _runningThread;
        if (running != 0 && running != Environment.CurrentManagedThreadId)
            throw new InvalidOperationException($"{call} must be called on the loop thread (the loop is running on another thread); use Loop.Post to hand work to the loop.");
    }

    /// <summary>
    /// True while another thread owns the loop's teardown: it runs the loop (which disposes when its iteration ends) or
    /// runs DisposeCore. Components then leave their cleanup to the disposal hooks instead of racing them.
    /// </summary>
    internal bool IsTornDownElsewhere
    {
        get
        {
            if (!_disposeRequested) return false;
            int me = Environment.CurrentManagedThreadId, running = _runningThread, draining = _drainingThread;
            return (running != 0 && running != me) || (draining != 0 && draining != me);
        }
    }

    /// <summary>True when the caller is the thread currently running the loop.</summary>
    internal bool IsOnLoopThread => _runningThread == Environment.CurrentManagedThreadId;

    private int _drainingThread;           // the thread running DisposeCore's final drain, 0 otherwise

    /// <summary>
    /// True when work may be queued on the ready ring from this thread: the loop thread, or the thread disposing the
    /// loop while it drains what disposal settled.
    /// </summary>
    internal bool CanDeferHere => _runningThread == Environment.CurrentManagedThreadId
        || (_drainingThread != 0 && _drainingThread == Environment.CurrentManagedThreadId);

    /// <summary>
    /// Schedules a continuation after the loop is gone: it runs on the thread pool (there is no loop thread any more),
    /// so awaiting code still resumes and observes its ObjectDisposedException/cancellation.
    /// </summary>
    internal static void RunAfterDisposal(Action<object?> callback, object? state)
        => ThreadPool.UnsafeQueueUserWorkItem(callback, state, preferLocal: false);

    private volatile bool _drained;        // DisposeCore's final drain is over: only the thread pool remains

    /// <summary>True once disposal has finished draining: work queued from now on can only run on the thread pool.</summary>
    internal bool IsDrained => _drained;

    /// <summary>
    /// Queues work for the loop thread from any thread, also while the loop is being disposed (until its final drain
    /// has run); unlike <see cref="Post(Action{Loop})"/> it never throws. Returns false once the loop is drained: the
    /// caller then runs the work with <see cref="RunAfterDisposal"/>.
    /// </summary>
    internal bool TryPostInternal(Action<Loop, object?> action, object? state)
    {
        bool wake;
        lock (_postLock)
        {
            if (_drained) return false;
            _posts.Add(new PostItem(action, state));
            _postCount = _posts.Count;
            wake = !_disposed && _runningThread != Environment.CurrentManagedThreadId && Interlocked.Exchange(ref _wakePending, 1) == 0;
            if (wake) Interlocked.Increment(ref _wakesInFlight);
        }
        if (wake) WakeOutsideLock();
        return true;
    }

    /// <summary>
    /// After the bounded drain: marks the loop drained and hands whatever is still queued (ready ring, then posts) to a
    /// single thread-pool work item that runs it in order, so those callbacks never run concurrently with each other.
    /// </summary>
    private void HandOffLeftovers()
    {
        List<PostItem> posts;
        lock (_postLock)
        {
            _drained = true;
            posts = _posts;
            _posts = new();
            _postCount = 0;
        }
        var ready = new List<(Delegate, object?)>();
        while (_readyCount > 0)
        {
            ref var slot = ref _ready[_readyHead];
            ready.Add((slot.Callback, slot.State));
            slot = default;
            _readyHead = (_readyHead + 1) & (_ready.Length - 1);
            _readyCount--;
        }
        if (ready.Count == 0 && posts.Count == 0) return;
        RunAfterDisposal(static s =>
        {
            var (loop, r, p) = ((Loop, List<(Delegate, object?)>, List<PostItem>))s!;
            foreach (var (cb, st) in r)
            {
                try { if (cb is Action<object?> a) a(st); else ((SendOrPostCallback)cb)(st); }
                catch (Exception ex) { loop.UnhandledException?.Invoke(loop, ex); }
            }
            foreach (var item in p)
            {
                try
                {
                    if (item.Callback is Action<Loop> a) a(loop);
                    else ((Action<Loop, object?>)item.Callback)(loop, item.State);
                }
                catch (Exception ex) { loop.UnhandledException?.Invoke(loop, ex); }
            }
        }, (this, ready, posts));
    }

    // ------------------------------------------------------------------ callback invocation

    internal void ReportException(Exception ex)
    {
        var handler = UnhandledException;
        if (handler is not null)
        {
            try { handler(this, ex); return; }
            catch (Exception handlerEx) { ex = handlerEx; }
        }
        (_pendingErrors ??= new()).Add(ex);
    }

    /// <summary>Counts a callback run by a backend's own invoker (for RunOnce's return value).</summary>
    internal void CallbacksRunIncrement() => _callbacksRun++;

    /// <summary>Re-reads the clock (the Fake controls call this after moving virtual time).</summary>
    internal void RefreshNow() => UpdateNow();

    internal void Invoke(Action<Loop> callback)
    {
        _callbacksRun++;
        try { callback(this); } catch (Exception ex) { ReportException(ex); }
    }

    internal void Invoke<T>(Action<T> callback, T arg)
    {
        _callbacksRun++;
        try { callback(arg); } catch (Exception ex) { ReportException(ex); }
    }

    internal void Invoke<T1, T2>(Action<T1, T2> callback, T1 a, T2 b)
    {
        _callbacksRun++;
        try { callback(a, b); } catch (Exception ex) { ReportException(ex); }
    }

    // ------------------------------------------------------------------ timers

    /// <summary>Runs <paramref name="callback"/> once, <paramref name="delay"/> from now. <c>After(TimeSpan.Zero)</c> fires on the next iteration.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public TimerHandle After(TimeSpan delay, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(DeadlineAfter(delay, nameof(After)), 0, callback, null);
    }

    /// <summary>State-passing <see cref="After(TimeSpan, Action{Loop})"/>: no closure allocation.</summary>
    public TimerHandle After<TState>(TimeSpan delay, TState state, Action<Loop, TState> callback) where TState : class?
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(DeadlineAfter(delay, nameof(After)), 0, callback, state);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> once at the absolute monotonic time <paramref name="monotonicDeadlineNanoseconds"/>
    /// (see <see cref="NowNanoseconds"/>). A deadline in the past fires on the next iteration.
    /// </summary>
    public TimerHandle At(long monotonicDeadlineNanoseconds, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(At));
        return Schedule(monotonicDeadlineNanoseconds, 0, callback, null);
    }

    /// <summary>State-passing <see cref="At(long, Action{Loop})"/>.</summary>
    public TimerHandle At<TState>(long monotonicDeadlineNanoseconds, TState state, Action<Loop, TState> callback) where TState : class?
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(At));
        return Schedule(monotonicDeadlineNanoseconds, 0, callback, state);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> every <paramref name="interval"/>, drift-free: each deadline is the previous
    /// deadline plus the interval, not "callback end plus interval". After a stall longer than the interval
    /// (a long callback, a suspended process) missed ticks are not replayed: the callback runs once, and the next
    /// deadline is the first one on the original phase grid that lies after the current time.
    /// Runs until cancelled.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is zero or negative.</exception>
    public TimerHandle Every(TimeSpan interval, Action<Loop> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        long ns = IntervalNs(interval);
        return Schedule(DeadlineAfter(interval, nameof(Every)), ns, callback, null);
    }

    /// <summary>State-passing <see cref="Every(TimeSpan, Action{Loop})"/>.</summary>
    public TimerHandle Every<TState>(TimeSpan interval, TState state, Action<Loop, TState> callback) where TState : class?
    {
        ArgumentNullException.ThrowIfNull(callback);
        long ns = IntervalNs(interval);
        return Schedule(DeadlineAfter(interval, nameof(Every)), ns, callback, state);
    }

    private static long IntervalNs(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "Loop.Every: the interval must be positive.");
        return TicksToNs(interval.Ticks);
    }

    /// <summary>TimeSpan ticks (100 ns) to nanoseconds, saturating: TimeSpan.MaxValue becomes "never", not a wrap.</summary>
    internal static long TicksToNs(long ticks) => ticks > long.MaxValue / 100 ? long.MaxValue : ticks * 100;

    /// <summary>
    /// The Fake controls' RunUntilIdle: iterations with a zero wait (the virtual clock does not move) until one runs no
    /// callback and <paramref name="hasQueued"/> reports nothing left; returns the callbacks run.
    /// </summary>
    internal int RunUntilIdle(Func<bool> hasQueued, int maxIterations, string call)
    {
        int total = 0;
        for (int i = 0; i < maxIterations; i++)
        {
            int n = RunOnce(TimeSpan.Zero);
            total += n;
            if (n == 0 && !hasQueued()) return total;
        }
        throw new InvalidOperationException($"{call}: still busy after {maxIterations} iterations.");
    }

    private long DeadlineAfter(TimeSpan delay, string call)
    {
        if (delay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Loop.{call}: the delay must not be negative.");
        CheckThread(call);
        // Inside a callback the iteration's cached time is the reference (every timer of a batch is relative to the same
        // instant). Outside a running loop (setup before Run) the cache may be arbitrarily old: refresh it first.
        if (!IsOnLoopThread) UpdateNow();
        return SaturatingAdd(_now, TicksToNs(delay.Ticks));
    }

    /// <summary>Adds without wrapping: a huge delay becomes "never" (long.MaxValue), not a deadline in the past.</summary>
    internal static long SaturatingAdd(long a, long b)
    {
        long r = unchecked(a + b);
        return b > 0 && r < a ? long.MaxValue : r;
    }

    private TimerHandle Schedule(long deadline, long intervalNs, Delegate callback, object? state)
    {
        var t = new TimerHandle(this, callback, state) { IntervalNs = intervalNs };
        Enqueue(t, deadline);
        return t;
    }

    private void Enqueue(TimerHandle t, long deadline)
    {
        t.Deadline = deadline;
        t.Sequence = ++_timerSequence;
        t.State = TimerHandle.TimerState.Queued;
        _timers.Insert(t);
    }

    internal bool CancelTimer(TimerHandle t)
    {
        // Disposal dropped every timer: none will fire, and cancelling during or after disposal (e.g. from a callback
        // that disposal itself runs) must not throw.
        if (_disposeRequested) return false;
        CheckThread(nameof(TimerHandle) + ".Cancel");
        switch (t.State)
        {
            case TimerHandle.TimerState.Queued:
                _timers.Remove(t);
                t.State = TimerHandle.TimerState.Cancelled;
                return true;
            case TimerHandle.TimerState.Due:       // collected in the batch being fired; it is skipped
                t.State = TimerHandle.TimerState.Cancelled;
                return true;
            default:
                return false;
        }
    }

    internal void RestartTimer(TimerHandle t, TimeSpan delay)
    {
        long deadline = DeadlineAfter(delay, nameof(TimerHandle) + ".Restart");
        if (t.State == TimerHandle.TimerState.Queued) _timers.Remove(t);
        t.IntervalNs = 0;
        Enqueue(t, deadline);
    }

    /// <summary>Timers currently scheduled (for tests and diagnostics).</summary>
    public int PendingTimerCount => _timers.Count;

    /// <summary>The earliest timer deadline, or null when no timer is scheduled.</summary>
    private protected long? NextTimerDeadline => _timers.Peek()?.Deadline;

    private void RunDueTimers()
    {
        if (_timers.Count == 0) return;
        long now = _now;
        // Collect first, then fire: timers scheduled by these callbacks (After(0), At(past)) wait for the next
        // iteration, and a sibling cancelled by an earlier callback is skipped because its state changed.
        while (_timers.Peek() is { } top && top.Deadline <= now)
        {
            _timers.PopMin();
            top.State = TimerHandle.TimerState.Due;
            _due.Add(top);
        }
        for (int i = 0; i < _due.Count; i++)
        {
            var t = _due[i];
            if (t.State != TimerHandle.TimerState.Due) continue;
            if (t.IntervalNs == 0) t.State = TimerHandle.TimerState.Idle;
            FireTimer(t);
            if (t.IntervalNs > 0 && t.State == TimerHandle.TimerState.Due)
            {
                long next = SaturatingAdd(t.Deadline, t.IntervalNs);
                if (next <= _now)
                {
                    long missed = (_now - t.Deadline) / t.IntervalNs;     // skip ticks lost to a stall, keep the phase
                    next = SaturatingAdd(t.Deadline, SaturatingMul(missed + 1, t.IntervalNs));
                }
                Enqueue(t, next);
            }
        }
        _due.Clear();
    }

    /// <summary>
    /// Invokes an <c>Action&lt;Loop, TState&gt;</c> stored as <see cref="Delegate"/> with its state. Every public
    /// state-passing overload constrains TState to a reference type and stores a state of exactly that type, so
    /// viewing the delegate as <c>Action&lt;Loop, object?&gt;</c> is sound (reference types share one calling
    /// convention) and avoids DynamicInvoke's reflection and allocation.
    /// </summary>
    private void InvokeWithState(Delegate callback, object? state)
        => System.Runtime.CompilerServices.Unsafe.As<Action<Loop, object?>>(callback)(this, state);

    private static long SaturatingMul(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;

    private void FireTimer(TimerHandle t)
    {
        _callbacksRun++;
        try
        {
            if (t.Callback is Action<Loop> a) a(this);
            else InvokeWithState(t.Callback, t.CallbackState);
        }
        catch (Exception ex) { ReportException(ex); }
    }

    // ------------------------------------------------------------------ Post and deferred callbacks

    /// <summary>
    /// Queues <paramref name="action"/> to run on the loop thread. Thread-safe. Wakes a sleeping loop through its
    /// eventfd (io_uring: a multishot poll kept armed on it); concurrent posts coalesce into one wakeup, and the
    /// eventfd counter cannot overflow because at most one write is outstanding per drain. Posts run in FIFO order
    /// per posting thread; a post made while the loop drains posts runs in the next iteration, never lost.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void Post(Action<Loop> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        EnqueuePost(new PostItem(action, null));
    }

    /// <summary>State-passing <see cref="Post(Action{Loop})"/>: no closure allocation.</summary>
    public void Post(Action<Loop, object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        EnqueuePost(new PostItem(action, state));
    }

    private void EnqueuePost(PostItem item)
    {
        bool wake;
        lock (_postLock)
        {
            if (_disposeRequested) ThrowDisposed();
            _posts.Add(item);
            _postCount = _posts.Count;
            // The loop thread checks _postCount before it waits, so it needs no wakeup. Another thread decides to wake
            // under the lock but writes the eventfd after releasing it: the woken loop takes this lock at once to drain,
            // and writing while holding it made every cross-thread wake contend (measured ~6x slower round trips).
            wake = _runningThread != Environment.CurrentManagedThreadId && Interlocked.Exchange(ref _wakePending, 1) == 0;
            if (wake) Interlocked.Increment(ref _wakesInFlight);
        }
        if (wake) WakeOutsideLock();
    }

    /// <summary>Wakes the loop from any thread unless it is already disposed (see <see cref="EnqueuePost"/>).</summary>
    private void WakeIfAlive()
    {
        bool wake;
        lock (_postLock)
        {
            wake = !_disposed && Interlocked.Exchange(ref _wakePending, 1) == 0;
            if (wake) Interlocked.Increment(ref _wakesInFlight);
        }
        if (wake) WakeOutsideLock();
    }

    /// <summary>
    /// Writes the wake eventfd. Counted in <see cref="_wakesInFlight"/> (incremented under the post lock while the loop
    /// was not yet disposed) so that DisposeCore waits for the write to finish before it closes the eventfd: a write can
    /// never land on a closed, possibly reused, fd number.
    /// </summary>
    private void WakeOutsideLock()
    {
        try { WakeBackend(); }
        finally { Interlocked.Decrement(ref _wakesInFlight); }
    }

    private void DrainPosts()
    {
        // Reset before swapping: a post that lands after the swap sees 0 and writes the eventfd, so it is never lost.
        Volatile.Write(ref _wakePending, 0);
        if (_postCount == 0) return;
        List<PostItem> batch;
        lock (_postLock)
        {
            batch = _posts;
            _posts = _drainingPosts;
            _drainingPosts = batch;
            _postCount = 0;
        }
        for (int i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            _callbacksRun++;
            try
            {
                if (p.Callback is Action<Loop> a) a(this);
                else ((Action<Loop, object?>)p.Callback)(this, p.State);
            }
            catch (Exception ex) { ReportException(ex); }
        }
        batch.Clear();
    }

    /// <summary>
    /// Queues a callback to run on the loop thread during this or the next iteration's deferred phase. Loop thread
    /// only (other threads use <see cref="Post(Action{Loop})"/>). Never runs inline. Allocation-free.
    /// </summary>
    internal void Defer(Action<object?> callback, object? state) => DeferCore(callback, state);

    /// <summary>Same as <see cref="Defer"/> for a synchronization-context callback.</summary>
    internal void DeferPost(SendOrPostCallback callback, object? state) => DeferCore(callback, state);

    private void DeferCore(Delegate callback, object? state)
    {
        if (!CanDeferHere && _disposeRequested)
        {
            // Code resumed after (or during another thread's) disposal, e.g. a using-block's Close: the ring belongs to
            // the loop thread, so go through the thread-safe internal post, or the thread pool once the loop is drained.
            if (callback is Action<object?> a)
            {
                if (!TryPostInternal(static (_, s) => { var (f, x) = ((Action<object?>, object?))s!; f(x); }, (a, state))) RunAfterDisposal(a, state);
            }
            else
            {
                var d = (SendOrPostCallback)callback;
                if (!TryPostInternal(static (_, s) => { var (f, x) = ((SendOrPostCallback, object?))s!; f(x); }, (d, state)))
                    RunAfterDisposal(static s => { var (f, x) = ((SendOrPostCallback, object?))s!; f(x); }, (d, state));
            }
            return;
        }
        if (_readyCount == _ready.Length)
        {
            var bigger = new ReadyItem[_ready.Length * 2];
            for (int i = 0; i < _readyCount; i++) bigger[i] = _ready[(_readyHead + i) & (_ready.Length - 1)];
            _ready = bigger;
            _readyHead = 0;
        }
        ref var slot = ref _ready[(_readyHead + _readyCount) & (_ready.Length - 1)];
        slot.Callback = callback;
        slot.State = state;
        _readyCount++;
    }

    private void RunDeferred()
    {
        // Only what was queued before this phase: work deferred by these callbacks runs next iteration (with a
        // zero wait), so a self-rescheduling continuation cannot starve I/O.
        int n = _readyCount;
        for (int i = 0; i < n && _readyCount > 0; i++)
        {
            ref var slot = ref _ready[_readyHead];
            var cb = slot.Callback;
            var st = slot.State;
            slot = default;
            _readyHead = (_readyHead + 1) & (_ready.Length - 1);
            _readyCount--;
            _callbacksRun++;
            try
            {
                if (cb is Action<object?> a) a(st);
                else ((SendOrPostCallback)cb)(st);
            }
            catch (Exception ex) { ReportException(ex); }
        }
    }

    /// <summary>True when work is queued that must run without waiting in the kernel.</summary>
    private protected virtual bool HasImmediateWork => _readyCount > 0 || _postCount > 0;

    // ------------------------------------------------------------------ running

    /// <summary>
    /// Runs iterations until <see cref="Stop"/> is called (from a callback or any thread). Returns at once, without
    /// blocking, if <see cref="Stop"/> was called before. The loop does not end by itself when idle: a daemon's loop
    /// waits for posts, signals and I/O until it is told to stop.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is already running (re-entrant or on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void Run()
    {
        Enter();
        try
        {
            while (Interlocked.Exchange(ref _stopRequested, 0) == 0)
            {
                Iterate(-1);
                ThrowPendingErrors();
            }
        }
        finally { Exit(); }
    }

    /// <summary>
    /// Runs one iteration: waits at most <paramref name="timeout"/> (null = until something happens; zero = poll),
    /// capped by the next timer deadline, then dispatches. Returns the number of callbacks run.
    /// A pending <see cref="Stop"/> makes the wait zero but is not consumed (the next <see cref="Run()"/> returns at once).
    /// </summary>
    public int RunOnce(TimeSpan? timeout = null)
    {
        long ns = -1;
        if (timeout is { } t)
        {
            if (t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
                throw new ArgumentOutOfRangeException(nameof(timeout), t, "Loop.RunOnce: the timeout must not be negative.");
            ns = t == Timeout.InfiniteTimeSpan ? -1 : TicksToNs(t.Ticks);
        }
        Enter();
        try
        {
            int n = Iterate(ns);
            ThrowPendingErrors();
            return n;
        }
        finally { Exit(); }
    }

    /// <summary>
    /// Asks the loop to stop. Thread-safe. Inside a callback, <see cref="Run()"/> returns after the current iteration
    /// completes (the remaining callbacks of the batch still run) without entering the kernel wait again.
    /// Before <see cref="Run()"/>, it makes the next <see cref="Run()"/> return immediately.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1) return;
        if (_runningThread != 0 && _runningThread != Environment.CurrentManagedThreadId) WakeIfAlive();
    }

    /// <summary>True after <see cref="Stop"/> until a <see cref="Run()"/> consumes the request.</summary>
    private protected bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    private void Enter()
    {
        lock (_stateLock)
        {
            if (_disposeRequested) ThrowDisposed();
            if (_runningThread != 0)
                throw new InvalidOperationException(_runningThread == Environment.CurrentManagedThreadId
                    ? "The loop is already running on this thread: Run/RunOnce cannot be called from a callback."
                    : "The loop is already running on another thread: one loop, one thread.");
            _runningThread = Environment.CurrentManagedThreadId;
            _runExited?.Reset();
        }
        // Whatever runs before the first iteration (Run(main)'s synchronous prefix) schedules timers against the time of
        // entry, not against the last iteration's (or the constructor's) cached time.
        UpdateNow();
        OnEnterLoopThread();
    }

    private void Exit()
    {
        OnExitLoopThread();
        bool dispose;
        lock (_stateLock)
        {
            _runningThread = 0;
            dispose = _disposeRequested && !_disposed;
        }
        try
        {
            if (dispose) DisposeCore();
        }
        finally
        {
            _runExited?.Set();              // a Dispose() waiting on another thread must never hang
        }
    }



    private void ThrowPendingErrors()
    {
        var errors = _pendingErrors;
        if (errors is null) return;
        _pendingErrors = null;
        if (errors.Count == 1) ExceptionDispatchInfo.Capture(errors[0]).Throw();
        throw new AggregateException("Several loop callbacks threw during one iteration.", errors);
    }

    private int Iterate(long maxWaitNs)
    {
        _callbacksRun = 0;
        // The clock is needed before the wait only to bound it by the next timer deadline; callbacks see the time read
        // after the wait (OnWaitReturned). Skipping the read when no timer is scheduled saves a clock_gettime per
        // iteration on busy I/O loops.
        if (_timers.Count > 0) UpdateNow();
        long wait = maxWaitNs;
        if (StopRequested || _disposeRequested || _pendingErrors is not null || HasImmediateWork) wait = 0;
        else if (_timers.Peek() is { } next)
        {
            // Compare before subtracting: a deadline near long.MinValue (At() far in the past) would wrap.
            long untilDeadline = next.Deadline <= _now ? 0 : next.Deadline - _now;
            if (untilDeadline <= 0) wait = 0;
            else if (wait < 0 || untilDeadline < wait) wait = untilDeadline;
        }
        PollBackend(wait);                 // the backend re-reads the clock after its wait (OnWaitReturned)
        RunDueTimers();
        DrainPosts();
        RunDeferred();
        return _callbacksRun;
    }

    /// <summary>Runs one iteration on behalf of the Fake controls and the async layer (no Enter/Exit checks).</summary>
    private protected int IterateInternal(long maxWaitNs) => Iterate(maxWaitNs);

    // ------------------------------------------------------------------ disposal

    /// <summary>
    /// Closes every fd the loop opened and releases the backend. Thread-safe and idempotent. Called from a callback,
    /// the loop stops and disposes when the current iteration ends; called from another thread while the loop runs,
    /// it stops the loop and waits for it to leave before releasing resources. Pending timers are dropped; a proactor
    /// settles in-flight operations first (see <see cref="ProactorLoop"/>).
    /// </summary>
    public void Dispose()
    {
        int running;
        lock (_stateLock)
        {
            if (_disposeRequested) return;
            _disposeRequested = true;
            running = _runningThread;
            if (running != 0 && running != Environment.CurrentManagedThreadId) _runExited ??= new ManualResetEventSlim(false);
        }
        GC.SuppressFinalize(this);
        if (running == 0) { DisposeCore(); return; }
        Interlocked.Exchange(ref _stopRequested, 1);
        if (running == Environment.CurrentManagedThreadId) return;           // Exit() disposes
        WakeIfAlive();
        _runExited!.Wait();
    }

    private void DisposeCore()
    {
        lock (_stateLock)
        {
            if (_disposed) return;
            lock (_postLock) _disposed = true;
        }
        // No new wake can start now (they are decided under the post lock); let those already started finish their
        // eventfd write before the backend closes the fd.
        SpinWait.SpinUntil(() => Volatile.Read(ref _wakesInFlight) == 0);
        // From here on, what disposal settles on this thread is deferred and run by the drain below.
        _drainingThread = Environment.CurrentManagedThreadId;
        try
        {
            DisposeAdaptors();
            DisposeBackend();
        }
        finally
        {
            // Components on the loop (LinuxEvent.Net streams, listeners, connects) settle the awaits nothing else will
            // settle now and close what they own; their continuations run in the drain below. After the backend: the
            // proactor has settled those with operations in flight, whose fds must stay open until the kernel saw them.
            RunDisposalHooks();
            FailPendingDelays();
            _timers.Clear();
            // Settlements during disposal (cancelled operations, failed awaits) queue continuations on the ready ring,
            // and continuations completed elsewhere (Task.Delay, other threads) arrive as internal posts: run both here,
            // on this thread, so awaiting code resumes (with its OperationCanceledException/ObjectDisposedException)
            // and nothing runs concurrently with it. Bounded; the rest is handed to one thread-pool work item, in order.
            try
            {
                for (int round = 0; round < 64 && (_readyCount > 0 || _postCount > 0); round++)
                {
                    DrainPosts();
                    RunDeferred();
                }
            }
            finally
            {
                _pendingErrors = null;
                HandOffLeftovers();
                _drainingThread = 0;
            }
        }
    }

    /// <summary>Completes every pending <see cref="DelayAsync"/> with <see cref="ObjectDisposedException"/>: disposal drops timers.</summary>
    private void FailPendingDelays()
    {
        foreach (var t in _timers.Snapshot())
            if (t.CallbackState is Async.AsyncOp { Kind: Async.AsyncKind.Delay, IsPending: true } op)
                op.Fail(new ObjectDisposedException(GetType().Name, "The loop was disposed while the delay was pending."));
    }

    /// <summary>True once <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposeRequested;
}


/// <summary>A registration of an fd the loop itself owns (signalfd, pidfd), made by a backend.</summary>
internal abstract class InternalWatch
{
    /// <summary>Stops watching. Idempotent. The fd itself is not closed.</summary>
    public abstract void Cancel();
}
