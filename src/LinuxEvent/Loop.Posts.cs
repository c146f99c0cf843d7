namespace LinuxEvent;

public abstract partial class Loop
{
    // Posted work: other threads append under the lock; the loop swaps lists to drain without allocating.
    private readonly object _postLock = new();
    private List<PostItem> _posts = new();
    private List<PostItem> _drainingPosts = new();
    private volatile int _postCount;
    private int _wakePending;
    private int _wakesInFlight;            // eventfd writes started by other threads and not yet finished
    private volatile bool _drained;        // DisposeCore's final drain is over: only the thread pool remains

    // Deferred loop-thread callbacks (continuations, fake completions): a ring buffer, no allocation in steady state.
    private ReadyItem[] _ready = new ReadyItem[64];
    private int _readyHead, _readyCount;

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

    /// <summary>
    /// <see cref="Post(Action{Loop})"/> that returns false instead of throwing once the loop is disposed: for posting to
    /// another loop (a sibling in a <see cref="LoopGroup"/>, a loop owned by someone else), where the target going away
    /// must not fail the callback that posts. Thread-safe.
    /// </summary>
    public bool TryPost(Action<Loop> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return EnqueuePost(new PostItem(action, null), throwIfDisposed: false);
    }

    /// <summary>State-passing <see cref="TryPost(Action{Loop})"/>: no closure allocation.</summary>
    public bool TryPost(Action<Loop, object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        return EnqueuePost(new PostItem(action, state), throwIfDisposed: false);
    }

    private bool EnqueuePost(PostItem item, bool throwIfDisposed = true)
    {
        bool wake;
        lock (_postLock)
        {
            if (_disposeRequested)
            {
                if (throwIfDisposed) ThrowDisposed();
                return false;
            }
            _posts.Add(item);
            _postCount = _posts.Count;
            // The loop thread checks _postCount before it waits, so it needs no wakeup. Another thread decides to wake
            // under the lock but writes the eventfd after releasing it: the woken loop takes this lock at once to drain,
            // and writing while holding it made every cross-thread wake contend (measured ~6x slower round trips).
            wake = _runningThread != Environment.CurrentManagedThreadId && Interlocked.Exchange(ref _wakePending, 1) == 0;
            if (wake) Interlocked.Increment(ref _wakesInFlight);
        }
        if (wake) WakeOutsideLock();
        return true;
    }

    /// <summary>
    /// Creates a wakeup: a thread-safe trigger whose <paramref name="callback"/> runs on this loop with the number of
    /// <see cref="LoopWakeup.Signal"/> calls coalesced into that run (like libuv's uv_async_t, with the count it lacks).
    /// Signals made while a run is already queued add to its count instead of queueing another. Loop thread (or before
    /// the loop runs).
    /// </summary>
    public LoopWakeup CreateWakeup(Action<Loop, int> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(CreateWakeup));
        return new LoopWakeup(this, callback);
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
        try { Backend.Wake(); }
        finally { Interlocked.Decrement(ref _wakesInFlight); }
    }

    // Cancellations requested from other threads (token callbacks): an intrusive lock-free stack of the awaitables
    // themselves, so a storm of cross-thread cancels costs no allocation and no lock (the post list would grow).
    private ICrossThreadCancel? _cancelHead;

    /// <summary>
    /// Queues <paramref name="item"/>'s cross-thread cancellation for the loop thread and wakes the loop. Thread-safe and
    /// allocation-free; the item must not already be queued (its owner guards that). Push-only from any thread, emptied
    /// as a whole by the loop, so the stack has no ABA problem.
    /// </summary>
    internal void PostCancel(ICrossThreadCancel item)
    {
        ICrossThreadCancel? head;
        do
        {
            head = Volatile.Read(ref _cancelHead);
            item.NextCancel = head;
        }
        while (Interlocked.CompareExchange(ref _cancelHead, item, head) != head);
        // The first item of a batch wakes the loop; later ones find it already woken (or about to look).
        if (head is null) WakeIfAlive();
    }

    private void DrainCancels()
    {
        var item = Interlocked.Exchange(ref _cancelHead, null);
        while (item is not null)
        {
            var next = item.NextCancel;
            item.NextCancel = null;
            _callbacksRun++;
            try { item.RunCancel(); }
            catch (Exception ex) { ReportException(ex); }
            item = next;
        }
    }

    private void DrainPosts()
    {
        // Reset before swapping: a post that lands after the swap sees 0 and writes the eventfd, so it is never lost.
        Volatile.Write(ref _wakePending, 0);
        if (_cancelHead is not null) DrainCancels();
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
    /// Runs <paramref name="callback"/> on the loop thread, from the loop's deferred phase, never inline: the building
    /// block for components (streams, listeners, awaitables) that must not call user code inside a user's call.
    /// Thread-safe. From the loop thread it costs a slot in a ring (no allocation, no syscall) and runs in this
    /// iteration's deferred phase, or the next one if that phase is already running. From another thread it is posted
    /// (and wakes the loop). Work deferred while the loop is being disposed runs in disposal's final drain; once the
    /// loop is gone it runs on the thread pool. So a deferred callback always runs, exactly once, and never
    /// concurrently with the loop's other callbacks while the loop exists.
    /// </summary>
    public void Defer(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        DeferCore(callback, state);
    }

    /// <summary>Same as <see cref="Defer"/> for a synchronization-context callback.</summary>
    internal void DeferPost(SendOrPostCallback callback, object? state) => DeferCore(callback, state);

    private void DeferCore(Delegate callback, object? state)
    {
        // The ring belongs to the loop thread. Before the loop ever runs, the thread setting it up counts as that thread.
        if (!CanDeferHere && (_runningThread != 0 || _disposeRequested))
        {
            if (!TryPostInternal(s_runDeferredItem, new DeferredItem(callback, state)))
                RunAfterDisposal(static s => ((DeferredItem)s!).Run(), new DeferredItem(callback, state));
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

    private static readonly Action<Loop, object?> s_runDeferredItem = static (_, s) => ((DeferredItem)s!).Run();

    /// <summary>A deferred callback that had to leave the loop thread's ring (posted, or handed to the thread pool).</summary>
    private sealed class DeferredItem(Delegate callback, object? state)
    {
        public void Run()
        {
            if (callback is Action<object?> a) a(state);
            else ((SendOrPostCallback)callback)(state);
        }
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
    private bool HasImmediateWork => _readyCount > 0 || _postCount > 0 || _cancelHead is not null || Backend.HasQueuedWork;

    /// <summary>
    /// Schedules a continuation after the loop is gone: it runs on the thread pool (there is no loop thread any more),
    /// so awaiting code still resumes and observes its ObjectDisposedException/cancellation.
    /// </summary>
    internal static void RunAfterDisposal(Action<object?> callback, object? state)
        => ThreadPool.UnsafeQueueUserWorkItem(callback, state, preferLocal: false);

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
}
