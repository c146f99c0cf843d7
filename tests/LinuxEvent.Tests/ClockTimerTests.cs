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
