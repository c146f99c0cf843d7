namespace LinuxEvent.Tests;

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
