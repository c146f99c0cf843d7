using System.Diagnostics;

namespace LinuxEvent.Tests;

/// <summary>On the fakes, <see cref="Loop.TimeProvider"/> follows the virtual clock: hours pass in no real time.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class TimeProviderVirtualClockTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AnHourLongTaskDelayCompletesAtOnceAndMovesTheVirtualClockAnHour()
    {
        using var loop = backend.Create();
        var wall = Stopwatch.StartNew();
        long start = loop.NowNanoseconds;
        var utcStart = loop.TimeProvider.GetUtcNow();
        loop.Run(async () => await Task.Delay(TimeSpan.FromHours(1), loop.TimeProvider));
        Assert.That(wall.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "no real hour passes");
        Assert.That(loop.NowNanoseconds - start, Is.GreaterThanOrEqualTo(TimeSpan.FromHours(1).Ticks * 100));
        Assert.That(loop.TimeProvider.GetUtcNow() - utcStart, Is.GreaterThanOrEqualTo(TimeSpan.FromHours(1)),
            "the virtual wall clock moved with the virtual monotonic clock");
    }

    [Test]
    public void TimersOfTheTimeProviderAndLoopTimersInterleaveByDeadline()
    {
        using var loop = backend.Create();
        var order = new List<string>();
        loop.After(TimeSpan.FromMinutes(2), _ => order.Add("loop-2m"));
        using var t1 = loop.TimeProvider.CreateTimer(_ => order.Add("tp-1m"), null, TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan);
        using var t3 = loop.TimeProvider.CreateTimer(_ => order.Add("tp-3m"), null, TimeSpan.FromMinutes(3), Timeout.InfiniteTimeSpan);
        loop.RunUntil(() => order.Count == 3, TimeSpan.FromHours(1));
        Assert.That(order, Is.EqualTo(new[] { "tp-1m", "loop-2m", "tp-3m" }));
    }
}
