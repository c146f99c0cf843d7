namespace LinuxEvent.Tests;

/// <summary>
/// Timers on CLOCK_REALTIME and CLOCK_BOOTTIME (<see cref="ClockTimer"/>), written once and run on every backend: a
/// timerfd watched by the loop on the real ones, the virtual clocks on the fakes.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class ClockTimerTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(30);

    [TestCase(LoopClock.Boottime)]
    [TestCase(LoopClock.Realtime)]
    [TestCase(LoopClock.Monotonic)]
    public void ATimerAfterADelayOnAClockFiresOnceWhenThatClockReachesItsDeadline(LoopClock clock)
    {
        using var loop = backend.Create();
        long firedAt = 0;
        int fired = 0;
        var timer = loop.After(Short, clock, l => { fired++; firedAt = l.GetClockNanoseconds(clock); });
        Assert.That(timer.IsActive, Is.True);
        Assert.That(timer.Clock, Is.EqualTo(clock));
        if (!loop.IsFake)
        {
            Assert.That(timer.FileDescriptor, Is.GreaterThanOrEqualTo(0));
            Assert.That(new FileInfo($"/proc/self/fd/{timer.FileDescriptor}").LinkTarget, Is.EqualTo("anon_inode:[timerfd]"));
        }
        loop.RunUntil(() => fired > 0, Bound);
        Assert.That(firedAt, Is.GreaterThanOrEqualTo(timer.DeadlineNanoseconds), "not before the deadline on its clock");
        Assert.That(timer.IsActive, Is.False);
        Assert.That(timer.FileDescriptor, Is.EqualTo(-1), "the timerfd is closed once it fired");
        Assert.That(timer.Cancel(), Is.False);
        var after = loop.DelayAsync(Short * 2);
        loop.RunUntil(() => after.IsCompleted, Bound);
        Assert.That(fired, Is.EqualTo(1), "one-shot");
    }

    [Test]
    public void AWallClockTimerFiresAtItsWallClockTimeAndOneInThePastFiresAtOnce()
    {
        using var loop = backend.Create();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(loop.GetClockNanoseconds(LoopClock.Realtime) / 1_000_000);
        var order = new List<string>();
        loop.At(now + Short, _ => order.Add("soon"));
        loop.At(now - TimeSpan.FromHours(1), _ => order.Add("past"));
        loop.RunUntil(() => order.Count == 2, Bound);
        Assert.That(order, Is.EqualTo(new[] { "past", "soon" }));
        Assert.That(loop.GetClockNanoseconds(LoopClock.Realtime) / 1_000_000, Is.GreaterThanOrEqualTo((now + Short).ToUnixTimeMilliseconds()));
    }

    [Test]
    public void ACancelledClockTimerNeverFiresAndReleasesItsFd()
    {
        using var loop = backend.Create();
        int fired = 0;
        var timer = loop.After(Short, LoopClock.Boottime, _ => fired++);
        Assert.That(timer.Cancel(), Is.True);
        Assert.That(timer.Cancel(), Is.False);
        Assert.That(timer.FileDescriptor, Is.EqualTo(-1));
        var after = loop.DelayAsync(Short * 3);
        loop.RunUntil(() => after.IsCompleted, Bound);
        Assert.That(fired, Is.Zero);
    }

    [Test]
    public void DisposingTheLoopReleasesArmedClockTimersWithoutRunningThem()
    {
        int fired = 0;
        var loop = backend.Create();
        var timer = loop.At(DateTimeOffset.UtcNow + TimeSpan.FromHours(1), _ => fired++, _ => fired++);
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
        Assert.That(timer.IsActive, Is.False);
        Assert.That(fired, Is.Zero);
        // FdCheckedTest fails the test if the timerfd leaked.
    }

    [Test]
    public void BadArgumentsAreRefusedClearly()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.After(TimeSpan.FromTicks(-1), LoopClock.Boottime, _ => { }));
        Assert.That(ex!.ParamName, Is.EqualTo("delay"));
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.At(new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero), _ => { }));
        Assert.That(ex!.ParamName, Is.EqualTo("wallClockTime"));
        Assert.That(ex.Message, Does.Contain("Unix epoch"));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.After(Short, (LoopClock)42, _ => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.At(LoopClock.Realtime, -1, _ => { }));
        Assert.Throws<ArgumentNullException>(() => loop.At(DateTimeOffset.UtcNow, null!));
    }

    [Test]
    public void ClockTimersAreLoopThreadOnly()
    {
        using var loop = backend.Create();
        var bound = loop.DelayAsync(TimeSpan.Zero);
        loop.RunUntil(() => bound.IsCompleted, Bound);          // the loop has run on this thread
        var running = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        Exception? offThread = null;
        loop.Post(_ => { running.Set(); release.Wait(Bound); });
        var t = new Thread(() =>
        {
            running.Wait(Bound);
            try { loop.After(Short, LoopClock.Boottime, _ => { }); }
            catch (Exception e) { offThread = e; }
            release.Set();
        });
        t.Start();
        loop.RunUntil(() => release.IsSet, Bound);
        t.Join();
        Assert.That(offThread, Is.InstanceOf<InvalidOperationException>());
    }
}

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

/// <summary>The timerfd adaptor itself, for code that watches the fd (here: a reactor watch).</summary>
public class TimerFdTests : FdCheckedTest
{
    [Test]
    public void AWatchedTimerFdReportsItsExpirations()
    {
        using var loop = Loop.CreateReactor();
        using var timer = new TimerFd(LoopClock.Boottime);
        long expirations = 0;
        using var watch = loop.Watch(timer.FileDescriptor, WatchOptions.Read, w => expirations += timer.Read(out bool _), null);
        timer.ArmAfter(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        loop.RunUntil(() => expirations >= 3, TimeSpan.FromSeconds(10));
        timer.Disarm();
        Assert.That(timer.Read(out bool set), Is.Zero, "disarmed: nothing to read");
        Assert.That(set, Is.False);
    }

    [Test]
    public void BadArgumentsAndUseAfterDisposeAreRefused()
    {
        var timer = new TimerFd(LoopClock.Monotonic);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.ArmAt(1, cancelOnClockSet: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.ArmAfter(TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.ArmAt(-5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TimerFd((LoopClock)9));
        timer.ArmAt(1);                                     // the past: expires at once
        Assert.That(timer.Read(out _), Is.EqualTo(1));
        timer.Dispose();
        Assert.That(timer.FileDescriptor, Is.EqualTo(-1));
        Assert.Throws<ObjectDisposedException>(() => timer.Read(out _));
        timer.Dispose();
    }

    [Test]
    public void TheClocksAreTheKernels()
    {
        long real = TimerFd.Now(LoopClock.Realtime) / 1_000_000;
        Assert.That(Math.Abs(real - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), Is.LessThan(5_000));
        Assert.That(TimerFd.Now(LoopClock.Boottime), Is.GreaterThanOrEqualTo(TimerFd.Now(LoopClock.Monotonic) - 1_000_000));
    }
}
