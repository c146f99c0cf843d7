namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopContractTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ModelAndBackendNameAreReported()
    {
        using var loop = backend.Create();
        Assert.That(loop.Model, Is.EqualTo(backend.Model));
        Assert.That(loop.BackendName, Is.EqualTo(backend.BackendName));
    }

    [Test]
    public void StopBeforeRunMakesRunReturnWithoutBlocking()
    {
        using var loop = backend.Create();
        loop.Stop();
        var run = Task.Run(loop.Run);
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run returned");
        Assert.That(loop.IsRunning, Is.False);
    }

    [Test]
    public void StopInsideACallbackEndsRunAfterTheIterationWithoutWaitingInTheKernel()
    {
        using var loop = backend.Create();
        var log = new List<string>();
        loop.After(TimeSpan.Zero, l => { log.Add("stopper"); l.Stop(); });
        loop.After(TimeSpan.Zero, _ => log.Add("sibling in the same batch"));
        // Nothing else is scheduled: if Run entered the kernel wait again it would block forever.
        var run = Task.Run(loop.Run);
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run returned");
        Assert.That(log, Is.EqualTo(new[] { "stopper", "sibling in the same batch" }));
    }

    [Test]
    public void StopFromAnotherThreadWakesABlockedRun()
    {
        using var loop = backend.Create();
        using var started = new ManualResetEventSlim();
        loop.After(TimeSpan.Zero, _ => started.Set());
        var run = Task.Run(loop.Run);
        Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True);
        loop.Stop();
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run returned after Stop from another thread");
    }

    [Test]
    public void PostFromEightThreadsRunsEveryActionExactlyOnceOnTheLoopThread()
    {
        using var loop = backend.Create();
        const int threads = 8, perThread = 10_000;
        var hits = new int[threads * perThread];
        int done = 0;
        int loopThread = -1, wrongThread = 0;
        loop.Post(_ => loopThread = Environment.CurrentManagedThreadId);
        var go = new ManualResetEventSlim();
        var posters = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            go.Wait();
            for (int i = 0; i < perThread; i++)
            {
                int index = t * perThread + i;
                if (loop.IsDisposed) return;          // the test already failed; do not crash the test host
                loop.Post(_ =>
                {
                    hits[index]++;
                    if (Environment.CurrentManagedThreadId != loopThread) wrongThread++;
                    done++;
                });
            }
        })).ToList();
        posters.ForEach(p => p.Start());
        go.Set();
        loop.RunUntil(() => Volatile.Read(ref done) == threads * perThread, TimeSpan.FromSeconds(30));
        posters.ForEach(p => p.Join());
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(hits.All(h => h == 1), Is.True, "every action ran exactly once");
        Assert.That(wrongThread, Is.Zero);
        go.Dispose();
    }

    [Test]
    public void APostMadeDuringTheDrainIsNotLost()
    {
        using var loop = backend.Create();
        var log = new List<int>();
        loop.Post(l => { log.Add(1); l.Post(_ => log.Add(2)); });
        loop.RunUntil(() => log.Count == 2, TimeSpan.FromSeconds(5));
        Assert.That(log, Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void PostWakesALoopBlockedWithNoTimeout()
    {
        using var loop = backend.Create();
        int ran = 0;
        var poster = new Thread(() => loop.Post(_ => ran++));
        loop.Post(_ => poster.Start());           // start posting only once the loop runs
        loop.RunOnce(TimeSpan.Zero);
        int iterations = 0;
        while (ran == 0 && iterations++ < 100) loop.RunOnce();   // no timeout: only the wakeup can end the wait
        poster.Join();
        Assert.That(ran, Is.EqualTo(1));
    }

    [Test]
    public void ThrowingCallbackIsRethrownFromRunAfterTheIterationAndTheLoopStaysUsable()
    {
        using var loop = backend.Create();
        var log = new List<string>();
        loop.After(TimeSpan.Zero, _ => throw new InvalidTimeZoneException("boom"));
        loop.After(TimeSpan.Zero, _ => log.Add("sibling still ran"));
        var ex = Assert.Throws<InvalidTimeZoneException>(() => loop.Run());
        Assert.That(ex!.Message, Is.EqualTo("boom"));
        Assert.That(log, Is.EqualTo(new[] { "sibling still ran" }));
        Assert.That(loop.IsRunning, Is.False);

        loop.After(TimeSpan.Zero, l => { log.Add("ran again"); l.Stop(); });
        loop.Run();
        Assert.That(log, Has.Member("ran again"));
    }

    [Test]
    public void UnhandledExceptionHandlerReceivesCallbackExceptionsAndTheLoopContinues()
    {
        using var loop = backend.Create();
        var seen = new List<Exception>();
        loop.UnhandledException = (_, e) => seen.Add(e);
        loop.After(TimeSpan.Zero, _ => throw new FormatException("one"));
        loop.Post(_ => throw new FormatException("two"));
        int after = 0;
        loop.After(TimeSpan.FromMilliseconds(1), _ => after++);
        loop.RunUntil(() => after == 1);
        Assert.That(seen.Select(e => e.Message), Is.EquivalentTo(new[] { "one", "two" }));
    }

    [Test]
    public void SeveralThrowingCallbacksInOneIterationBecomeAnAggregate()
    {
        using var loop = backend.Create();
        loop.After(TimeSpan.Zero, _ => throw new FormatException("a"));
        loop.After(TimeSpan.Zero, _ => throw new FormatException("b"));
        var ex = Assert.Throws<AggregateException>(() => loop.RunOnce(TimeSpan.FromSeconds(1)));
        Assert.That(ex!.InnerExceptions.Select(e => e.Message), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void RunOnceFromACallbackIsRejected()
    {
        using var loop = backend.Create();
        Exception? inner = null;
        loop.After(TimeSpan.Zero, l => { try { l.RunOnce(TimeSpan.Zero); } catch (Exception e) { inner = e; } });
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(inner, Is.InstanceOf<InvalidOperationException>());
        Assert.That(inner!.Message, Does.Contain("already running"));
    }

    [Test]
    public void LoopThreadCallsFromAnotherThreadWhileRunningAreRejected()
    {
        using var loop = backend.Create();
        Exception? fromOther = null;
        loop.After(TimeSpan.Zero, l =>
        {
            var t = new Thread(() => { try { l.After(TimeSpan.Zero, _ => { }); } catch (Exception e) { fromOther = e; } });
            t.Start();
            t.Join();
        });
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(fromOther, Is.InstanceOf<InvalidOperationException>());
        Assert.That(fromOther!.Message, Does.Contain("Post"));
    }

    [Test]
    public void DisposedLoopThrowsObjectDisposedAndDisposeTwiceIsANoOp()
    {
        var loop = backend.Create();
        loop.Dispose();
        loop.Dispose();
        Assert.That(loop.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => loop.After(TimeSpan.Zero, _ => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Post(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.RunOnce(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => loop.Run());
        Assert.Throws<ObjectDisposedException>(() => loop.Signal(10, (_, _) => { }));
    }

    [Test]
    public void CancellingHandlesOfADisposedLoopIsANoOpReturningFalse()
    {
        var loop = backend.Create();
        var timer = loop.After(TimeSpan.FromHours(1), _ => { });
        var signal = loop.Signal(12, (_, _) => { });
        loop.Dispose();
        Assert.That(timer.Cancel(), Is.False, "disposal dropped the timer");
        Assert.That(signal.Cancel(), Is.False);
    }

    [Test]
    public void DisposeInsideACallbackStopsTheLoopAndReleasesEverything()
    {
        var loop = backend.Create();
        loop.After(TimeSpan.Zero, l => l.Dispose());
        loop.After(TimeSpan.FromSeconds(3600), _ => { });
        var run = Task.Run(loop.Run);
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(loop.IsDisposed, Is.True);
    }

    [Test]
    public void DisposeFromAnotherThreadWaitsForTheLoopToLeave()
    {
        var loop = backend.Create();
        using var started = new ManualResetEventSlim();
        loop.After(TimeSpan.Zero, _ => started.Set());
        var run = Task.Run(loop.Run);
        Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True);
        loop.Dispose();
        Assert.That(loop.IsRunning, Is.False, "Dispose returned only after Run left");
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True);
    }

    // Regression (code review): when disposal threw (a cancelled operation's callback rethrowing), the loop thread never
    // signalled the Dispose() waiting on another thread, which then hung.
    [Test]
    public void DisposeFromAnotherThreadDoesNotHangWhenACallbackThrowsDuringDisposal()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var started = new ManualResetEventSlim();
            if (loop is ProactorLoop p)
                loop.Post(_ => p.Receive(a, new byte[8], op => op.GetResultOrThrow()));   // throws when cancelled by disposal
            else
                loop.Post(l => l.Spawn(async () => { await l.ReceiveAsync(a, new byte[8]); }));
            loop.After(TimeSpan.FromMilliseconds(1), _ => started.Set());
            var run = Task.Run(() => { try { loop.Run(); } catch (Exception) { } });
            Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True);
            var dispose = Task.Run(loop.Dispose);
            Assert.That(dispose.Wait(TimeSpan.FromSeconds(10)), Is.True, "Dispose returned");
            Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run returned");
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void NowIsCachedPerIterationAndMonotonic()
    {
        using var loop = backend.Create();
        long a = loop.NowNanoseconds;
        loop.RunOnce(TimeSpan.FromMilliseconds(2));
        long b = loop.NowNanoseconds;
        Assert.That(b, Is.GreaterThanOrEqualTo(a));
        long seenInCallback1 = 0, seenInCallback2 = 0;
        loop.After(TimeSpan.Zero, l => { seenInCallback1 = l.NowNanoseconds; });
        loop.After(TimeSpan.Zero, l => { seenInCallback2 = l.NowNanoseconds; });
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(seenInCallback2, Is.EqualTo(seenInCallback1), "callbacks of one batch see the same time");
    }
}
