namespace LinuxEvent.Tests;

/// <summary>Timer rules that need time moved by an exact amount: the fakes' virtual clock.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class TimerVirtualClockTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void EveryRunsOnceAfterAStallAndSkipsTheMissedTicks()
    {
        using var loop = backend.Create();
        long start = loop.NowNanoseconds;
        var fired = new List<long>();
        var t = loop.Every(TimeSpan.FromMilliseconds(10), l => fired.Add(l.NowNanoseconds));
        loop.AdvanceVirtualClock(TimeSpan.FromMilliseconds(35));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(fired, Is.EqualTo(new[] { start + 35_000_000 }), "ticks at 10, 20 and 30 ms coalesce into one run");
        Assert.That(t.DeadlineNanoseconds, Is.EqualTo(start + 40_000_000), "the next tick stays on the original grid");
        t.Cancel();
    }
}
