using System.Diagnostics;

namespace LinuxEvent.Tests;

/// <summary><see cref="Loop.TimeProvider"/>: timers on the loop thread, in loop time, on every backend.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class TimeProviderTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void TaskDelayOnTheLoopsTimeProviderResumesOnTheLoopThreadAfterTheDelayInLoopTime()
    {
        using var loop = backend.Create();
        long start = 0, end = 0;
        int loopThread = 0, resumedOn = 0;
        loop.Run(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            start = loop.NowNanoseconds;
            await Task.Delay(TimeSpan.FromMilliseconds(30), loop.TimeProvider);
            resumedOn = Environment.CurrentManagedThreadId;
            end = loop.NowNanoseconds;
        });
        Assert.That(resumedOn, Is.EqualTo(loopThread));
        Assert.That(end - start, Is.GreaterThanOrEqualTo(30_000_000L));
        Assert.That(loop.PendingTimerCount, Is.Zero, "a fired one-shot timer leaves nothing scheduled");
    }

    [Test]
    public void APeriodicTimerFiresOnTheLoopThreadUntilDisposed()
    {
        using var loop = backend.Create();
        int ticks = 0, wrongThread = 0;
        int loopThread = 0;
        ITimer? timer = null;
        loop.Post(_ =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            timer = loop.TimeProvider.CreateTimer(_ =>
            {
                if (Environment.CurrentManagedThreadId != loopThread) wrongThread++;
                if (++ticks == 3) timer!.Dispose();
            }, null, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        });
        loop.RunUntil(() => ticks >= 3, TimeSpan.FromSeconds(5));
        // A few more iterations' worth of loop time: a disposed timer must not fire again.
        bool later = false;
        loop.After(TimeSpan.FromMilliseconds(30), _ => later = true);
        loop.RunUntil(() => later, TimeSpan.FromSeconds(5));
        Assert.That(ticks, Is.EqualTo(3));
        Assert.That(wrongThread, Is.Zero);
        Assert.That(timer!.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan), Is.False, "a disposed timer refuses Change");
    }

    [Test]
    public void ChangeFromAnotherThreadIsPostedToTheLoop()
    {
        using var loop = backend.Create();
        int fired = 0;
        var timer = loop.TimeProvider.CreateTimer(_ => fired++, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        bool changed = false;
        loop.Post(_ =>
        {
            var t = new Thread(() => changed = timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan));
            t.Start();
            t.Join();
        });
        loop.RunUntil(() => fired == 1, TimeSpan.FromSeconds(5));
        Assert.That(changed, Is.True);
        timer.Dispose();
    }

    [Test]
    public void ACancellationTokenSourceOnTheLoopsTimeProviderCancelsInLoopTime()
    {
        using var loop = backend.Create();
        bool cancelled = false;
        loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20), loop.TimeProvider);
            try { await loop.DelayAsync(TimeSpan.FromSeconds(30), cts.Token); }
            catch (OperationCanceledException) { cancelled = true; }
        });
        Assert.That(cancelled, Is.True);
    }

    [Test]
    public void TimestampsAreTheLoopsClockInNanoseconds()
    {
        using var loop = backend.Create();
        var tp = loop.TimeProvider;
        Assert.That(tp.TimestampFrequency, Is.EqualTo(1_000_000_000L));
        long a = tp.GetTimestamp();
        loop.RunOnce(TimeSpan.FromMilliseconds(10));
        long b = tp.GetTimestamp();
        Assert.That(b, Is.GreaterThanOrEqualTo(a));
        Assert.That(Math.Abs(b - loop.NowNanoseconds), Is.LessThan(1_000_000_000L), "the same clock as NowNanoseconds");
        Assert.That(() => tp.CreateTimer(_ => { }, null, TimeSpan.FromMilliseconds(-2), Timeout.InfiniteTimeSpan),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
