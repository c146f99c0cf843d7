namespace LinuxEvent.Tests;

/// <summary>What other threads may do to a loop: post (also to a disposed one), wake with a count, cancel in storms.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class CrossThreadTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void TryPostToADisposedLoopReturnsFalseInsteadOfThrowingIntoTheCaller()
    {
        using var a = backend.Create();
        var b = backend.Create();
        b.Dispose();
        var errors = new List<Exception>();
        a.UnhandledException = (_, e) => errors.Add(e);
        bool? posted = null;
        a.Post(_ => posted = b.TryPost(_ => { }));
        a.RunUntil(() => posted is not null);
        Assert.That(posted, Is.False);
        Assert.That(errors, Is.Empty, "posting to a sibling that went away does not fail the posting callback");
        Assert.That(a.TryPost(_ => { }), Is.True);
    }

    [Test]
    public void AWakeupCoalescesSignalsFromOtherThreadsAndReportsHowMany()
    {
        using var loop = backend.Create();
        int runs = 0, total = 0;
        using var wakeup = loop.CreateWakeup((_, count) => { runs++; total += count; });
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 1000; i++) wakeup.Signal();
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        loop.RunUntil(() => total == 4000, TimeSpan.FromSeconds(10));
        Assert.That(total, Is.EqualTo(4000), "no signal is lost");
        Assert.That(runs, Is.LessThan(4000), "signals made while a run was queued were coalesced into it");
        wakeup.Dispose();
        Assert.That(wakeup.Signal(), Is.False);
    }

    [Test]
    public void TenThousandTokensCancelledFromAnotherThreadAreRaceFreeAndAllocateNothingPerCancel()
    {
        using var loop = backend.Create();
        // The first storms grow the two post lists the loop swaps between (amortized, kept for reuse).
        Storm(loop);
        Storm(loop);
        long allocated = Storm(loop);
        Assert.That(allocated, Is.LessThan(10_000), $"{allocated} B on the cancelling thread for 10,000 cancels");
    }

    /// <summary>10,000 awaits on the loop, each cancelled by its own token from another thread; returns the bytes the
    /// cancelling thread allocated.</summary>
    private static long Storm(Loop loop)
    {
        const int n = 10_000;
        var sources = new CancellationTokenSource[n];
        for (int i = 0; i < n; i++) sources[i] = new CancellationTokenSource();
        int cancelled = 0, completed = 0;
        bool started = false;
        loop.Post(l =>
        {
            for (int i = 0; i < n; i++) _ = WaitOne(l, sources[i].Token);
            started = true;
        });
        async Task WaitOne(Loop l, CancellationToken token)
        {
            try { await l.DelayAsync(TimeSpan.FromHours(1), token); completed++; }
            catch (OperationCanceledException) { cancelled++; }
        }
        loop.RunUntil(() => started);
        long allocated = -1;
        var canceller = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < n; i++) sources[i].Cancel();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        canceller.Start();
        // Zero-timeout iterations: on a fake, a blocking wait would jump the virtual clock to the delays' deadline and
        // complete them before their cancels arrive. Bounded in wall time.
        var wall = System.Diagnostics.Stopwatch.StartNew();
        while (cancelled < n && wall.Elapsed < TimeSpan.FromSeconds(30)) loop.RunOnce(TimeSpan.Zero);
        canceller.Join();
        Assert.That(cancelled, Is.EqualTo(n), "every await completes cancelled, none is lost or completed twice");
        Assert.That(completed, Is.Zero);
        foreach (var s in sources) s.Dispose();
        return allocated;
    }
}
