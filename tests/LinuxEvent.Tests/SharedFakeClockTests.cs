namespace LinuxEvent.Tests;

/// <summary>
/// Several fake loops on one <see cref="FakeClock"/>: they read the same time, each reports its next timer deadline,
/// and a zero-timeout iteration never moves the shared time (only the driver does), which is what lets one thread
/// simulate a server and its clients.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class SharedFakeClockTests(Backend backend) : FdCheckedTest
{
    private Loop Create(FakeClock clock) => backend.Model == LoopModel.Reactor
        ? Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake, FakeClock = clock })
        : Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake, FakeClock = clock });

    private static long? NextDeadline(Loop loop) => loop switch
    {
        ReactorLoop r => r.Fake!.NextTimerDeadline,
        ProactorLoop p => p.Fake!.NextTimerDeadline,
        _ => throw new InvalidOperationException(),
    };

    [Test]
    public void LoopsOnOneClockShareItsTimeAndOnlyTheDriverMovesIt()
    {
        var clock = new FakeClock(5_000_000_000);
        using var a = Create(clock);
        using var b = Create(clock);
        var fired = new List<string>();
        a.After(TimeSpan.FromMilliseconds(30), _ => fired.Add("a"));
        b.After(TimeSpan.FromMilliseconds(10), _ => fired.Add("b"));
        Assert.That(NextDeadline(a), Is.EqualTo(5_030_000_000));
        Assert.That(NextDeadline(b), Is.EqualTo(5_010_000_000));

        a.RunOnce(TimeSpan.Zero);
        b.RunOnce(TimeSpan.Zero);
        Assert.That(clock.NowNanoseconds, Is.EqualTo(5_000_000_000), "a zero-timeout iteration does not move the clock");

        clock.AdvanceTo(NextDeadline(b)!.Value);
        a.RunOnce(TimeSpan.Zero);
        b.RunOnce(TimeSpan.Zero);
        Assert.That(fired, Is.EqualTo(new[] { "b" }));
        Assert.That(a.NowNanoseconds, Is.EqualTo(b.NowNanoseconds));
        Assert.That(NextDeadline(b), Is.Null);

        clock.Advance(TimeSpan.FromMilliseconds(20));
        a.RunOnce(TimeSpan.Zero);
        Assert.That(fired, Is.EqualTo(new[] { "b", "a" }));
        Assert.That(a.NowNanoseconds, Is.EqualTo(5_030_000_000));

        clock.AdvanceTo(1);
        Assert.That(clock.NowNanoseconds, Is.EqualTo(5_030_000_000), "time never goes back");
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FakeClock(-1));
    }

    [Test]
    public void ALoopThatWouldSleepMovesTheSharedClockForEveryone()
    {
        var clock = new FakeClock();
        using var a = Create(clock);
        using var b = Create(clock);
        long start = clock.NowNanoseconds;
        a.After(TimeSpan.FromSeconds(2), _ => { });
        a.RunOnce();                                        // sleeps until its timer: the shared clock jumps
        Assert.That(clock.NowNanoseconds, Is.EqualTo(start + 2_000_000_000));
        b.RunOnce(TimeSpan.Zero);
        Assert.That(b.NowNanoseconds, Is.EqualTo(clock.NowNanoseconds));
    }
}
