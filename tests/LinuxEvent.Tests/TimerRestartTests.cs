namespace LinuxEvent.Tests;

/// <summary>
/// Restarting a timer to a later deadline (the per-connection idle timeout pattern) is O(1) and allocation-free: the
/// heap entry is moved lazily when its old deadline comes. These tests pin down that nothing observable changes.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class TimerRestartTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ATimerPushedBackFiresAtItsNewDeadlineNotItsOldOne()
    {
        using var loop = backend.Create();
        long start = loop.NowNanoseconds, firedAt = 0;
        var t = loop.After(TimeSpan.FromSeconds(1), l => firedAt = l.NowNanoseconds);
        loop.AdvanceVirtualClock(TimeSpan.FromMilliseconds(900));
        loop.RunOnce(TimeSpan.Zero);
        t.Restart(TimeSpan.FromSeconds(1));                      // now due at 1.9 s
        Assert.That(t.DeadlineNanoseconds - start, Is.EqualTo(1_900_000_000L));
        loop.RunUntil(() => firedAt != 0, TimeSpan.FromSeconds(10));
        Assert.That(firedAt - start, Is.EqualTo(1_900_000_000L));
    }

    [Test]
    public void EqualDeadlinesStillFireInSchedulingOrderAfterLazyRestarts()
    {
        using var loop = backend.Create();
        var order = new List<string>();
        var a = loop.After(TimeSpan.FromSeconds(1), _ => order.Add("a"));
        var b = loop.After(TimeSpan.FromSeconds(1), _ => order.Add("b"));
        // Restarted in the order b, a: at equal deadlines the later restart fires later.
        b.Restart(TimeSpan.FromSeconds(2));
        a.Restart(TimeSpan.FromSeconds(2));
        loop.After(TimeSpan.FromSeconds(2), _ => order.Add("c"));
        loop.RunUntil(() => order.Count == 3, TimeSpan.FromSeconds(10));
        Assert.That(order, Is.EqualTo(new[] { "b", "a", "c" }));
    }

    [Test]
    public void RestartingEarlierAndCancellingADeferredTimerWork()
    {
        using var loop = backend.Create();
        int fired = 0;
        var t = loop.After(TimeSpan.FromSeconds(10), _ => fired++);
        t.Restart(TimeSpan.FromSeconds(20));                     // deferred
        t.Restart(TimeSpan.FromSeconds(1));                      // earlier: moved in the heap at once
        loop.RunUntil(() => fired == 1, TimeSpan.FromSeconds(30));
        var u = loop.After(TimeSpan.FromSeconds(1), _ => fired += 10);
        u.Restart(TimeSpan.FromSeconds(5));                      // deferred
        Assert.That(u.Cancel(), Is.True);
        bool done = false;
        loop.After(TimeSpan.FromSeconds(10), _ => done = true);
        loop.RunUntil(() => done, TimeSpan.FromSeconds(30));
        Assert.That(fired, Is.EqualTo(1), "the cancelled deferred timer never fires");
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }

    [Test]
    public void OneHundredThousandIdleTimersRestartedPerMessageAllocateNothing()
    {
        using var loop = backend.Create();
        var timers = new TimerHandle[100_000];
        int expired = 0;
        for (int i = 0; i < timers.Length; i++) timers[i] = loop.After(TimeSpan.FromSeconds(30), _ => expired++);
        for (int round = 0; round < 2; round++)                  // warm up
            for (int i = 0; i < timers.Length; i++) timers[i].Restart(TimeSpan.FromSeconds(30));
        loop.AdvanceVirtualClock(TimeSpan.FromSeconds(1));
        loop.RunOnce(TimeSpan.Zero);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 5; round++)
            for (int i = 0; i < timers.Length; i++) timers[i].Restart(TimeSpan.FromSeconds(30));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(expired, Is.Zero);
        Assert.That(loop.PendingTimerCount, Is.EqualTo(100_000));
        foreach (var t in timers) t.Cancel();
    }
}
