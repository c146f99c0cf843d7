using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's file story: epoll cannot wait on a regular file (ep_insert refuses a file without a poll method with
/// EPERM, and a regular file is always "ready" anyway), so a blocking file syscall runs on one of a few worker threads
/// and its result comes back to the loop thread through the loop's thread-safe post path (one eventfd write per batch of
/// completions at most, coalesced by <c>Loop.Post</c>). The continuation then resumes from the loop's deferred phase,
/// exactly like a socket completion.
/// </summary>
/// <remarks>
/// <para><b>Threads</b>: created lazily, when more requests wait than there are threads free to take them, up to the
/// configured maximum; background threads, parked on a monitor while idle. A request waits in an intrusive FIFO, so
/// cancelling a queued request is O(1) and nothing is allocated per request (the request object belongs to the pooled
/// awaitable).</para>
/// <para><b>Cancellation</b>: a queued request leaves the queue and completes cancelled. A running one cannot be
/// interrupted (a thread inside pread cannot be stopped): it completes with its real result, and its buffer stays pinned
/// and in use until then.</para>
/// <para><b>Closing an fd</b>: a close runs only once no request naming the same fd is running (requests queued before
/// it leave the FIFO first), so a read queued before the close can never reach a file that reused the number.
/// <see cref="DetachFd"/> gives a <see cref="LoopFd"/> the same guarantee before it closes its fd.</para>
/// <para><b>Disposal</b> (<see cref="Dispose"/>): queued requests fail with ObjectDisposedException; the loop waits up to
/// <see cref="DisposeWaitLimit"/> for running syscalls to return and delivers their results; a request still running then
/// (a hung NFS server, an open of a FIFO nobody writes to) is abandoned: its await fails with ObjectDisposedException, and
/// its worker, a background thread, finishes the syscall later, releases the request's pins itself and closes an fd an
/// abandoned open returns.</para>
/// </remarks>
internal sealed class FileWorkerPool
{
    private static readonly Action<Loop, object?> s_drain = static (_, s) => ((FileWorkerPool)s!).Drain();

    private readonly ReactorIoDriver _driver;
    private readonly Loop _loop;
    private readonly int _maxThreads;
    private readonly object _lock = new();
    private readonly List<Thread> _threads = new();
    private FileRequest? _head, _tail;                 // queued, FIFO
    private int _queuedCount;
    private FileRequest? _running;                     // running (doubly linked through the same Prev/Next fields)
    private int _runningCount;
    private int _idle, _wakeups;                       // parked workers, and pulses sent to them not yet taken
    private int _stateWaiters;                         // threads waiting for a running request to finish
    private bool _stopping;
    private List<FileRequest> _done = new(), _draining = new();
    private bool _drainPosted;

    public FileWorkerPool(ReactorIoDriver driver, Loop loop, int maxThreads)
    {
        _driver = driver;
        _loop = loop;
        _maxThreads = maxThreads;
    }

    /// <summary>How long loop disposal (and a LoopFd's disposal) waits for running syscalls (settable by tests).</summary>
    internal TimeSpan DisposeWaitLimit { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Worker threads started so far.</summary>
    public int ThreadCount { get { lock (_lock) return _threads.Count; } }

    /// <summary>Requests a worker has taken and not finished (in their syscall, or a close waiting for its fd).</summary>
    public int RunningCount { get { lock (_lock) return _runningCount; } }

    /// <summary>Queues a pinned request (loop thread).</summary>
    public void Enqueue(FileRequest r)
    {
        lock (_lock)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(ReactorLoop), "The reactor loop is being disposed.");
            Append(ref _head, ref _tail, r);
            _queuedCount++;
            r.State = FileRequest.WorkState.Queued;
            if (_idle > _wakeups)
            {
                _wakeups++;
                Monitor.Pulse(_lock);
            }
            // Every thread not running a request (parked, woken, or between two requests) takes one from the queue before
            // it parks again: a new thread is needed only when the queue is longer than that.
            if (_queuedCount > _threads.Count - _runningCount && _threads.Count < _maxThreads) StartWorker();
        }
    }

    /// <summary>Cancels <paramref name="r"/> if it is still queued; false if a worker has it (its result will come).</summary>
    public bool TryDequeue(FileRequest r)
    {
        lock (_lock)
        {
            if (r.State != FileRequest.WorkState.Queued) return false;
            Unlink(ref _head, ref _tail, r);
            _queuedCount--;
            r.State = FileRequest.WorkState.None;
            return true;
        }
    }

    /// <summary>
    /// A <see cref="LoopFd"/> is ending: removes the queued requests naming <paramref name="fd"/> (returned, for the caller
    /// to fail) and waits, bounded, until no running request names it, so the fd can be closed.
    /// </summary>
    public List<FileRequest>? DetachFd(int fd)
    {
        List<FileRequest>? removed = null;
        lock (_lock)
        {
            for (var r = _head; r is not null;)
            {
                var next = r.Next;
                if (r.Fd == fd && r.Kind != OperationKind.OpenAt && !(r.Kind == OperationKind.Statx && r.PathText is not null))
                {
                    Unlink(ref _head, ref _tail, r);
                    _queuedCount--;
                    r.State = FileRequest.WorkState.None;
                    (removed ??= new()).Add(r);
                }
                r = next;
            }
            WaitWhileRunning(fd, DateTime.UtcNow + DisposeWaitLimit);
        }
        return removed;
    }

    private void StartWorker()
    {
        var t = new Thread(Work)
        {
            IsBackground = true,
            Name = "LinuxEvent file worker " + (_threads.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        t.UnsafeStart();                   // no ExecutionContext flow: the worker runs loop-owned requests only
        _threads.Add(t);
    }

    private void Work()
    {
        while (true)
        {
            FileRequest r;
            lock (_lock)
            {
                while (_head is null)
                {
                    if (_stopping) return;
                    _idle++;
                    Monitor.Wait(_lock);
                    _idle--;
                    if (_wakeups > 0) _wakeups--;
                }
                r = _head;
                Unlink(ref _head, ref _tail, r);
                _queuedCount--;
                r.State = FileRequest.WorkState.Running;
                Link(ref _running, r);
                _runningCount++;
                // A close waits for the requests on its fd that are still running (see the type remarks).
                if (r.Kind == OperationKind.Close) WaitWhileRunning(r.Fd, DateTime.MaxValue, r);
            }

            int result = FileSyscalls.Run(r);

            bool post = false, abandoned;
            lock (_lock)
            {
                Unlink(ref _running, r);
                _runningCount--;
                r.Result = result;
                r.State = FileRequest.WorkState.Finished;
                abandoned = r.Abandoned;
                if (!abandoned)
                {
                    _done.Add(r);
                    post = !_drainPosted;
                    _drainPosted = true;
                }
                if (_stateWaiters > 0) Monitor.PulseAll(_lock);
            }
            if (abandoned)
            {
                // Nobody will see this result: the loop is gone. Release what the request held, here.
                r.Unpin();
                if (r.Kind == OperationKind.OpenAt && result >= 0) Libc.Close(result);
                continue;
            }
            // False once the loop has finished disposing: then Dispose has already delivered (or abandoned) everything.
            if (post) _loop.TryPostInternal(s_drain, this);
        }
    }

    /// <summary>Delivers finished requests on the loop thread (posted by the worker that finished the first of a batch).</summary>
    private void Drain()
    {
        List<FileRequest> batch;
        lock (_lock)
        {
            batch = _done;
            _done = _draining;
            _draining = batch;
            _drainPosted = false;
        }
        for (int i = 0; i < batch.Count; i++) _driver.DeliverFile(batch[i], batch[i].Result);
        batch.Clear();
    }

    /// <summary>Loop disposal: see the type remarks. Runs on the disposing thread.</summary>
    public void Dispose()
    {
        List<FileRequest> queued = new();
        List<Thread> threads;
        lock (_lock)
        {
            _stopping = true;
            for (var r = _head; r is not null; r = r.Next) queued.Add(r);
            _head = _tail = null;
            _queuedCount = 0;
            Monitor.PulseAll(_lock);
            threads = new List<Thread>(_threads);
        }
        foreach (var r in queued)
        {
            r.State = FileRequest.WorkState.None;
            _driver.FailFile(r, ThrowHelper.LoopDisposedDuringOperation(_loop));
        }
        var deadline = DateTime.UtcNow + DisposeWaitLimit;
        List<FileRequest> abandoned = new();
        lock (_lock)
        {
            WaitWhileRunning(-1, deadline);
            for (var r = _running; r is not null; r = r.Next)
            {
                r.Abandoned = true;
                abandoned.Add(r);
            }
        }
        Drain();
        foreach (var r in abandoned)
        {
            // The worker still uses the request's memory: fail the await without touching the request's pins.
            var op = r.Owner;
            r.Owner = null;
            op?.Fail(ThrowHelper.LoopDisposedDuringOperation(_loop));
        }
        foreach (var t in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            t.Join(left);                  // a worker not in a syscall exits at once (_stopping)
        }
    }

    /// <summary>Waits (holding the lock between checks) until no running request other than <paramref name="except"/>
    /// names <paramref name="fd"/> (-1: until nothing runs at all), or until <paramref name="deadline"/>.</summary>
    private void WaitWhileRunning(int fd, DateTime deadline, FileRequest? except = null)
    {
        while (AnyRunning(fd, except))
        {
            var left = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
            if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero) return;
            _stateWaiters++;
            try { Monitor.Wait(_lock, left); }
            finally { _stateWaiters--; }
        }
    }

    private bool AnyRunning(int fd, FileRequest? except)
    {
        if (fd < 0) return _runningCount > 0;
        for (var r = _running; r is not null; r = r.Next)
            if (r != except && r.Fd == fd && r.Kind != OperationKind.OpenAt && !(r.Kind == OperationKind.Statx && r.PathText is not null)) return true;
        return false;
    }

    // ------------------------------------------------------------------ intrusive lists (under _lock)

    private static void Append(ref FileRequest? head, ref FileRequest? tail, FileRequest r)
    {
        r.Next = null;
        r.Prev = tail;
        if (tail is null) head = r; else tail.Next = r;
        tail = r;
    }

    private static void Unlink(ref FileRequest? head, ref FileRequest? tail, FileRequest r)
    {
        if (r.Prev is null) head = r.Next; else r.Prev.Next = r.Next;
        if (r.Next is null) tail = r.Prev; else r.Next.Prev = r.Prev;
        r.Prev = r.Next = null;
    }

    private static void Link(ref FileRequest? head, FileRequest r)
    {
        r.Prev = null;
        r.Next = head;
        if (head is not null) head.Prev = r;
        head = r;
    }

    private static void Unlink(ref FileRequest? head, FileRequest r)
    {
        if (r.Prev is null) head = r.Next; else r.Prev.Next = r.Next;
        if (r.Next is not null) r.Next.Prev = r.Prev;
        r.Prev = r.Next = null;
    }
}
