namespace LinuxEvent;

/// <summary>
/// Loop-per-core: N loops of one model, each created and run on its own thread. Rule 1 of the house ("one loop, one
/// thread") scales out this way instead of with locks: each loop owns its listeners (bind the same port with
/// SO_REUSEPORT in every loop, and the kernel spreads incoming connections across them) and its connections, and
/// loops talk to each other only through <see cref="Loop.Post(Action{Loop})"/>.
/// </summary>
/// <remarks>
/// <para>Each loop is created on its thread, so an io_uring ring (single-issuer) binds to the thread that runs it.
/// <see cref="Start"/> returns once every loop has run its setup callback; a setup failure stops the group and is
/// rethrown. A loop whose <see cref="Loop.Run()"/> throws ends only that loop; the exception is kept for
/// <see cref="Join"/>. Every loop is disposed on its own thread when its Run returns.</para>
/// <para>Scaling: with SO_REUSEPORT each loop accepts only its share of connections, so throughput scales with cores
/// until the NIC queues, the memory bandwidth or a shared resource of the application saturate. Connections never
/// migrate between loops; a long-lived hot connection stays on one core.</para>
/// </remarks>
public sealed class LoopGroup : IDisposable
{
    private readonly Loop[] _loops;
    private readonly Thread[] _threads;
    private readonly Exception?[] _errors;
    private int _state;                  // 0 new, 1 started, 2 stopped

    private LoopGroup(int count)
    {
        _loops = new Loop[count];
        _threads = new Thread[count];
        _errors = new Exception?[count];
    }

    /// <summary>The loops, index = loop number. Filled once <see cref="Start"/> returned.</summary>
    public IReadOnlyList<Loop> Loops => _loops;

    /// <summary>Number of loops.</summary>
    public int Count => _loops.Length;

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
        if (count is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(count), count, "LoopGroup.Start: count must be in 1..1024.");
        ArgumentNullException.ThrowIfNull(setup);
        var group = new LoopGroup(count);
        using var ready = new CountdownEvent(count);
        var setupErrors = new Exception?[count];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            var t = new Thread(() => group.ThreadMain(index, model, setup, teardown, pinThreads, ready, setupErrors))
            {
                IsBackground = true,
                Name = $"LinuxEvent loop {index}",
            };
            group._threads[i] = t;
            t.Start();
        }
        ready.Wait();
        group._state = 1;
        var failures = setupErrors.Where(e => e is not null).ToArray();
        if (failures.Length > 0)
        {
            group.Dispose();
            throw new AggregateException("LoopGroup.Start: a loop failed to start.", failures!);
        }
        return group;
    }

    private void ThreadMain(int index, LoopModel model, Action<Loop, int> setup, Action<Loop, int>? teardown, bool pin,
        CountdownEvent ready, Exception?[] setupErrors)
    {
        Loop? loop = null;
        try
        {
            if (pin) Posix.PinCurrentThreadToCpu(index % Environment.ProcessorCount);
            loop = Loop.Create(model);
            _loops[index] = loop;
            setup(loop, index);
        }
        catch (Exception ex)
        {
            setupErrors[index] = ex;
            loop?.Dispose();
            ready.Signal();
            return;
        }
        ready.Signal();
        try
        {
            loop.Run();
        }
        catch (Exception ex) { _errors[index] = ex; }
        finally
        {
            // Teardown runs however Run ended, so what setup opened (listeners, socket files) is closed.
            try { teardown?.Invoke(loop, index); }
            catch (Exception ex) { _errors[index] ??= ex; }
            // Disposed on its own thread: an io_uring ring can only be drained by the thread that owns it.
            try { loop.Dispose(); }
            catch (Exception ex) { _errors[index] ??= ex; }
        }
    }

    /// <summary>Asks every loop to stop (thread-safe, returns at once). Use <see cref="Join"/> to wait.</summary>
    public void Stop()
    {
        foreach (var l in _loops) l?.Stop();
    }

    /// <summary>
    /// Waits until every loop's Run has returned (or the timeout passed: returns false). Throws an
    /// <see cref="AggregateException"/> with the exceptions that ended loops, if any.
    /// </summary>
    public bool Join(TimeSpan? timeout = null)
    {
        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        foreach (var th in _threads)
        {
            if (th is null) continue;
            var left = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
            if (left != Timeout.InfiniteTimeSpan && left < TimeSpan.Zero) left = TimeSpan.Zero;
            if (!th.Join(left)) return false;
        }
        var errors = _errors.Where(e => e is not null).ToArray();
        if (errors.Length > 0) throw new AggregateException("LoopGroup: loops ended with exceptions.", errors!);
        return true;
    }

    /// <summary>Stops every loop and waits for its thread, which tears it down and disposes it. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2) return;
        Stop();
        foreach (var th in _threads) th?.Join();
    }
}
