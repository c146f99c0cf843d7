namespace LinuxEvent;

/// <summary>
/// Loop-per-core: N loops of one model, each created and run on its own thread. Rule 1 of the house ("one loop, one
/// thread") scales out this way instead of with locks: each loop owns its listeners (bind the same port with
/// SO_REUSEPORT in every loop, and the kernel spreads incoming connections across them) and its connections, and
/// loops talk to each other only through <see cref="Loop.Post(Action{Loop})"/>.
/// </summary>
/// <remarks>
/// <para>Each loop is created on its thread, so an io_uring ring (single-issuer) binds to the thread that runs it.
/// <see cref="Start(int, LoopModel, Action{Loop, int}, bool, Action{Loop, int}?)"/> returns once every loop has run its
/// setup callback; a setup failure stops the group and is rethrown. A loop whose <see cref="Loop.Run()"/> throws ends
/// only that loop; the exception is kept for <see cref="Join(TimeSpan?)"/>. Every loop is disposed on its own thread when its Run
/// returns.</para>
/// <para><b>A loop that ends on its own</b> (its Run threw, or returned because something called
/// <see cref="Loop.Stop"/> on it rather than on the group) is reported at once, on its own thread, to the
/// <c>onLoopFailed</c> callback of
/// <see cref="Start(int, Func{int, Loop}, Action{Loop, int}, bool, Action{Loop, int}?, Action{LoopGroup, int, Exception}?)"/>,
/// after it was torn down and disposed. The owner may then <see cref="Restart"/> it (from another thread) or stop the
/// group. Loops ended by <see cref="Stop"/> or <see cref="Dispose"/> are never reported.</para>
/// <para>Scaling: with SO_REUSEPORT each loop accepts only its share of connections, so throughput scales with cores
/// until the NIC queues, the memory bandwidth or a shared resource of the application saturate. Connections never
/// migrate between loops; a long-lived hot connection stays on one core.</para>
/// </remarks>
public sealed class LoopGroup : IDisposable, IAsyncDisposable
{
    private readonly Loop?[] _loops;
    private readonly Thread?[] _threads;
    private readonly Task?[] _exited;    // completes when the slot's current thread has finished (what Thread.Join waits for)
    private readonly Exception?[] _errors;
    private readonly bool[] _ended;      // the slot's thread has finished with its loop (Restart may replace it)
    private readonly Func<int, Loop> _createLoop;
    private readonly Action<Loop, int> _setup;
    private readonly Action<Loop, int>? _teardown;
    private readonly Action<LoopGroup, int, Exception>? _onLoopFailed;
    private readonly bool _pin;
    private readonly object _lock = new();
    private int _stopping;               // 1 once Stop or Dispose was called: loop exits are expected from then on
    private int _state;                  // 0 new, 1 started, 2 disposed

    private LoopGroup(int count, Func<int, Loop> createLoop, Action<Loop, int> setup, bool pin, Action<Loop, int>? teardown,
        Action<LoopGroup, int, Exception>? onLoopFailed)
    {
        _loops = new Loop?[count];
        _threads = new Thread?[count];
        _exited = new Task?[count];
        _errors = new Exception?[count];
        _ended = new bool[count];
        _createLoop = createLoop;
        _setup = setup;
        _pin = pin;
        _teardown = teardown;
        _onLoopFailed = onLoopFailed;
    }

    /// <summary>The loops, index = loop number. Filled once Start returned; <see cref="Restart"/> replaces an entry.</summary>
    public IReadOnlyList<Loop> Loops => _loops!;

    /// <summary>Number of loops.</summary>
    public int Count => _loops.Length;

    /// <summary>True once <see cref="Stop"/> or <see cref="Dispose"/> was called.</summary>
    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>
    /// Starts <paramref name="count"/> loops of <paramref name="model"/> (default backend), each on a dedicated thread
    /// (optionally pinned to CPU = index), runs <paramref name="setup"/> on each loop's thread before its Run, and returns
    /// once all are running.
    /// </summary>
    /// <param name="count">Number of loops, 1..1024; usually <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="model">The model of every loop.</param>
    /// <param name="setup">Called on the loop's thread with the loop and its index: create listeners, timers, etc.</param>
    /// <param name="pinThreads">Pin loop i's thread to CPU i (modulo the processor count).</param>
    /// <param name="teardown">Called on the loop's thread after its Run returned, before the loop is disposed there:
    /// close what setup opened (listeners, connections).</param>
    /// <exception cref="AggregateException">A loop could not be created or its setup threw; started loops are stopped
    /// and disposed before this is thrown.</exception>
    public static LoopGroup Start(int count, LoopModel model, Action<Loop, int> setup, bool pinThreads = false, Action<Loop, int>? teardown = null)
    {
        return Start(count, _ => Loop.Create(model), setup, pinThreads, teardown);
    }

    /// <summary>
    /// Starts <paramref name="count"/> loops made by <paramref name="createLoop"/> (any model and backend, e.g.
    /// <c>i =&gt; Loop.CreateProactor(new ProactorOptions { QueueDepth = 1024 })</c>), each created on its own dedicated
    /// thread, runs <paramref name="setup"/> there before its Run, and returns once all are running.
    /// </summary>
    /// <param name="count">Number of loops, 1..1024; usually <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="createLoop">Creates loop i, on loop i's thread (also when it is restarted).</param>
    /// <param name="setup">Called on the loop's thread with the loop and its index: create listeners, timers, etc.</param>
    /// <param name="pinThreads">Pin loop i's thread to CPU i (modulo the processor count).</param>
    /// <param name="teardown">Called on the loop's thread after its Run returned, before the loop is disposed there.</param>
    /// <param name="onLoopFailed">Called on a loop's thread, after its teardown and disposal, when the loop ended
    /// although the group was not stopping: with the group, the index and the exception that ended Run (an
    /// <see cref="InvalidOperationException"/> when Run returned because <see cref="Loop.Stop"/> was called on the loop
    /// itself). Never called for loops ended by <see cref="Stop"/>/<see cref="Dispose"/>. It may call
    /// <see cref="Restart"/> only from another thread (e.g. a thread-pool task), and must not wait for that restart.
    /// An exception it throws is kept for <see cref="Join(TimeSpan?)"/>.</param>
    /// <exception cref="AggregateException">A loop could not be created or its setup threw; started loops are stopped
    /// and disposed before this is thrown.</exception>
    public static LoopGroup Start(int count, Func<int, Loop> createLoop, Action<Loop, int> setup, bool pinThreads = false,
        Action<Loop, int>? teardown = null, Action<LoopGroup, int, Exception>? onLoopFailed = null)
    {
        if (count is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(count), count, "LoopGroup.Start: count must be in 1..1024.");
        ArgumentNullException.ThrowIfNull(createLoop);
        ArgumentNullException.ThrowIfNull(setup);
        var group = new LoopGroup(count, createLoop, setup, pinThreads, teardown, onLoopFailed);
        var setupErrors = new Exception?[count];
        using (var ready = new CountdownEvent(count))
        {
            lock (group._lock)
            {
                for (int i = 0; i < count; i++)
                {
                    int index = i;
                    group.StartThread(index, error => { setupErrors[index] = error; ready.Signal(); });
                }
            }
            ready.Wait();
        }
        group._state = 1;
        var failures = setupErrors.Where(e => e is not null).ToArray();
        if (failures.Length > 0)
        {
            group.Dispose();
            throw new AggregateException("LoopGroup.Start: a loop failed to start.", failures!);
        }
        return group;
    }

    /// <summary>
    /// Replaces loop <paramref name="index"/>, which has ended (it was reported to <c>onLoopFailed</c>), with a new loop
    /// made by the group's <c>createLoop</c> on a new thread, and runs the group's setup on it. Returns once the new
    /// loop runs. The error that ended the old loop is cleared (it was reported); <see cref="Loops"/> then holds the
    /// new loop. Thread-safe, but not from the ended loop's own thread (its <c>onLoopFailed</c> callback).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a loop number.</exception>
    /// <exception cref="InvalidOperationException">The loop is still running, the group is stopping or was not started
    /// by the factory overload of Start, or the call comes from the ended loop's thread.</exception>
    /// <exception cref="AggregateException">The new loop could not be created or its setup threw; the slot stays ended
    /// (Restart may be called again).</exception>
    public void Restart(int index)
    {
        if ((uint)index >= (uint)_loops.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"LoopGroup.Restart: loop numbers are 0..{_loops.Length - 1}.");
        var old = Volatile.Read(ref _threads[index]);
        if (ReferenceEquals(old, Thread.CurrentThread))
            throw new InvalidOperationException($"LoopGroup.Restart: called on loop {index}'s own thread (from onLoopFailed); restart it from another thread.");
        if (!Volatile.Read(ref _ended[index]))
            throw new InvalidOperationException($"LoopGroup.Restart: loop {index} is still running.");
        old?.Join();         // it only has its onLoopFailed callback left to run
        Exception? error = null;
        using var ready = new ManualResetEventSlim();
        lock (_lock)
        {
            if (_state != 1 || IsStopping) throw new InvalidOperationException("LoopGroup.Restart: the group is stopping or not started.");
            if (!_ended[index] || !ReferenceEquals(_threads[index], old))
                throw new InvalidOperationException($"LoopGroup.Restart: loop {index} was restarted by another call.");
            _ended[index] = false;
            _errors[index] = null;
            StartThread(index, e => { error = e; ready.Set(); });
        }
        ready.Wait();
        if (error is not null) throw new AggregateException($"LoopGroup.Restart: loop {index} failed to start.", error);
    }

    /// <summary>Creates and starts the thread of slot <paramref name="index"/>. Under <see cref="_lock"/>.</summary>
    private void StartThread(int index, Action<Exception?> started)
    {
        // Completed as the thread's last act, so awaiting it is Thread.Join without a blocked thread. Continuations run
        // elsewhere: never on the loop thread that is finishing.
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var t = new Thread(() =>
        {
            try { ThreadMain(index, started); }
            finally { exited.TrySetResult(); }
        })
        {
            IsBackground = true,
            Name = $"LinuxEvent loop {index}",
        };
        _threads[index] = t;
        _exited[index] = exited.Task;
        t.Start();
    }

    private void ThreadMain(int index, Action<Exception?> started)
    {
        Loop? loop = null;
        try
        {
            if (_pin) Posix.PinCurrentThreadToCpu(index % Environment.ProcessorCount);
            loop = _createLoop(index) ?? throw new InvalidOperationException($"LoopGroup: createLoop returned null for loop {index}.");
            // A full fence, paired with the one in Stop: either Stop sees this loop, or the check below sees Stop.
            Interlocked.Exchange(ref _loops[index], loop);
            _setup(loop, index);
            if (IsStopping) loop.Stop();       // a restart that raced Stop: Run returns at once
        }
        catch (Exception ex)
        {
            try { loop?.Dispose(); }
            catch (Exception disposeEx) { ex = new AggregateException(ex, disposeEx); }
            Volatile.Write(ref _ended[index], true);
            started(ex);
            return;
        }
        started(null);
        Exception? failure = null;
        try
        {
            loop.Run();
            // Run returns only after a Stop: if the group did not ask, something called Stop on the loop itself and
            // it is gone for good; say so rather than let it vanish silently.
            if (!IsStopping)
                failure = new InvalidOperationException($"LoopGroup: loop {index} ({loop.BackendName}) left Run without LoopGroup.Stop (Loop.Stop was called on it).");
        }
        catch (Exception ex) { _errors[index] = failure = ex; }
        finally
        {
            // Teardown runs however Run ended, so what setup opened (listeners, socket files) is closed.
            try { _teardown?.Invoke(loop, index); }
            catch (Exception ex) { _errors[index] ??= ex; }
            // Disposed on its own thread: an io_uring ring can only be drained by the thread that owns it.
            try { loop.Dispose(); }
            catch (Exception ex) { _errors[index] ??= ex; }
            Volatile.Write(ref _ended[index], true);
        }
        if (failure is not null && !IsStopping && _onLoopFailed is { } report)
        {
            try { report(this, index, failure); }
            catch (Exception ex) { _errors[index] = new AggregateException(failure, ex); }
        }
    }

    /// <summary>Asks every loop to stop (thread-safe, returns at once). Use <see cref="Join(TimeSpan?)"/> to wait. From then on
    /// loop exits are expected: they are not reported, and <see cref="Restart"/> is refused.</summary>
    public void Stop()
    {
        lock (_lock) Interlocked.Exchange(ref _stopping, 1);
        for (int i = 0; i < _loops.Length; i++) Volatile.Read(ref _loops[i])?.Stop();
    }

    /// <summary>
    /// Waits until every loop's Run has returned (or the timeout passed: returns false). Throws an
    /// <see cref="AggregateException"/> with the exceptions that ended loops, if any.
    /// </summary>
    public bool Join(TimeSpan? timeout = null) => Join(timeout, CancellationToken.None);

    /// <summary>
    /// Waits until every loop's thread has finished (its Run returned, its teardown ran and the loop was disposed), the
    /// timeout passed (returns false) or <paramref name="cancellationToken"/> is cancelled (throws
    /// <see cref="OperationCanceledException"/>; the loops are not stopped by that). Blocks the calling thread: from
    /// async code use <see cref="JoinAsync"/>.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits without a bound.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns>True once every loop has ended; false if the timeout passed first.</returns>
    /// <exception cref="AggregateException">Loops ended with exceptions (their Run, teardown or disposal threw).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public bool Join(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (timeout is { } t && t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "LoopGroup.Join: the timeout must not be negative.");
        var all = ExitedTasks(excludeCurrentThread: false);
        if (!all.Wait(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken)) return false;
        ThrowLoopErrors();
        return true;
    }

    /// <summary>
    /// Completes once every loop's thread has finished (its Run returned, its teardown ran and the loop was disposed),
    /// without blocking a thread meanwhile. Like <see cref="Join(TimeSpan?)"/> it waits; it does not stop the loops
    /// (call <see cref="Stop"/> first, or use <see cref="DisposeAsync"/>).
    /// </summary>
    /// <param name="cancellationToken">Ends the wait early (the task is cancelled); the loops keep running.</param>
    /// <exception cref="AggregateException">Loops ended with exceptions (their Run, teardown or disposal threw).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task JoinAsync(CancellationToken cancellationToken = default)
    {
        await ExitedTasks(excludeCurrentThread: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowLoopErrors();
    }

    /// <summary>One task for the current thread of every slot (a restart between two calls is seen by the later one).</summary>
    private Task ExitedTasks(bool excludeCurrentThread)
    {
        var tasks = new List<Task>(_exited.Length);
        lock (_lock)
        {
            for (int i = 0; i < _exited.Length; i++)
            {
                if (_exited[i] is not { } exited) continue;
                if (excludeCurrentThread && ReferenceEquals(_threads[i], Thread.CurrentThread)) continue;
                tasks.Add(exited);
            }
        }
        return Task.WhenAll(tasks);
    }

    private void ThrowLoopErrors()
    {
        var errors = _errors.Where(e => e is not null).ToArray();
        if (errors.Length > 0) throw new AggregateException("LoopGroup: loops ended with exceptions.", errors!);
    }

    /// <summary>Stops every loop and waits for its thread, which tears it down and disposes it. Idempotent. Blocks the
    /// calling thread until then: from async code (a host's shutdown, a thread-pool thread) use
    /// <see cref="DisposeAsync"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2) return;
        Stop();
        Thread?[] threads;
        lock (_lock) threads = (Thread?[])_threads.Clone();
        foreach (var th in threads)
        {
            if (th is null || ReferenceEquals(th, Thread.CurrentThread)) continue;
            th.Join();
        }
    }

    /// <summary>
    /// The graceful asynchronous form of <see cref="Dispose"/>: stops every loop and completes once each loop's thread
    /// has run its teardown and disposed its loop, without blocking a thread while it waits. Exceptions that ended loops
    /// are not thrown here (as with <see cref="Dispose"/>); call <see cref="JoinAsync"/> first to observe them. Called
    /// from a loop of the group, it does not wait for that loop's own thread (which can only finish after the call
    /// returns). Calling it again, or after <see cref="Dispose"/>, waits for the same threads.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        // _state stays as it is: a later Dispose still waits (Stop has made Restart impossible already).
        Stop();
        var exited = ExitedTasks(excludeCurrentThread: true);
        return exited.IsCompleted ? ValueTask.CompletedTask : new ValueTask(exited);
    }
}
