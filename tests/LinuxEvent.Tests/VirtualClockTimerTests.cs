namespace LinuxEvent.Tests;

/// <summary>The fakes move each clock virtually: a test sets the wall clock or simulates a suspend.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class VirtualClockTimerTests(Backend backend) : FdCheckedTest
{
    private static void SetWallClock(Loop loop, DateTimeOffset time)
    {
        if (loop is ProactorLoop { Fake: { } c }) c.SetWallClock(time);
        else ((ReactorLoop)loop).Fake!.SetWallClock(time);
    }

    private static void Suspend(Loop loop, TimeSpan by)
    {
        if (loop is ProactorLoop { Fake: { } c }) c.Suspend(by);
        else ((ReactorLoop)loop).Fake!.Suspend(by);
    }

    [Test]
    public void SettingTheWallClockPastADeadlineFiresItAfterTellingIt()
    {
        using var loop = backend.Create();
        var start = new DateTimeOffset(2030, 1, 1, 2, 0, 0, TimeSpan.Zero);
        SetWallClock(loop, start);
        Assert.That(loop.GetClockNanoseconds(LoopClock.Realtime), Is.EqualTo(start.ToUnixTimeMilliseconds() * 1_000_000));
        var events = new List<string>();
        var timer = loop.At(start.AddHours(1), _ => events.Add("fired"), _ => events.Add("wall clock set"));
        long mono = loop.NowNanoseconds;
        SetWallClock(loop, start.AddHours(2));
        Assert.That(events, Is.Empty, "the fakes' controls never run callbacks inline");
        loop.RunFakeUntilIdle();
        Assert.That(events, Is.EqualTo(new[] { "wall clock set", "fired" }));
        Assert.That(timer.WallClockSetCount, Is.EqualTo(1));
        Assert.That(loop.NowNanoseconds, Is.EqualTo(mono), "the monotonic clock did not move");
    }

    [Test]
    public void SettingTheWallClockBackDelaysAWallClockTimerButNotAMonotonicOne()
    {
        using var loop = backend.Create();
        var start = new DateTimeOffset(2030, 6, 1, 2, 59, 0, TimeSpan.Zero);
        SetWallClock(loop, start);
        var events = new List<string>();
        loop.At(start.AddMinutes(1), _ => events.Add("03:00"), _ => events.Add("set"));
        loop.After(TimeSpan.FromMinutes(1), _ => events.Add("monotonic +1min"));
        SetWallClock(loop, start.AddMinutes(-10));              // the clock goes back 10 minutes
        loop.RunFakeUntilIdle();
        Assert.That(events, Is.EqualTo(new[] { "set" }));
        loop.AdvanceVirtualClock(TimeSpan.FromMinutes(1));
        loop.RunFakeUntilIdle();
        Assert.That(events, Is.EqualTo(new[] { "set", "monotonic +1min" }), "02:50 on the wall clock: not yet 03:00");
        loop.AdvanceVirtualClock(TimeSpan.FromMinutes(10));
        loop.RunFakeUntilIdle();
        Assert.That(events, Is.EqualTo(new[] { "set", "monotonic +1min", "03:00" }));
    }

    [Test]
    public void ASuspendFiresBoottimeTimersButNotMonotonicOnes()
    {
        using var loop = backend.Create();
        var events = new List<string>();
        long boot0 = loop.GetClockNanoseconds(LoopClock.Boottime);
        loop.After(TimeSpan.FromHours(1), LoopClock.Boottime, _ => events.Add("boottime"));
        loop.After(TimeSpan.FromHours(1), LoopClock.Monotonic, _ => events.Add("monotonic clock timer"));
        loop.After(TimeSpan.FromHours(1), _ => events.Add("loop timer"));
        Suspend(loop, TimeSpan.FromHours(2));
        loop.RunFakeUntilIdle();
        Assert.That(events, Is.EqualTo(new[] { "boottime" }));
        Assert.That(loop.GetClockNanoseconds(LoopClock.Boottime) - boot0, Is.EqualTo(2L * 3600 * 1_000_000_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => Suspend(loop, TimeSpan.FromSeconds(-1)));
    }
}
