namespace LinuxEvent.Tests;

/// <summary>The Fake reactor backend: injected readiness follows the same dispatch contract as epoll.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeReactors))]
public class FakeReactorTests(Backend backend) : FdCheckedTest
{
    private ReactorLoop NewFake() => (ReactorLoop)backend.Create();

    [Test]
    public void InjectedReadinessIsFilteredByInterestLikeTheKernel()
    {
        using var loop = NewFake();
        var log = new List<string>();
        var w = loop.Watch(1000, WatchOptions.Read, _ => log.Add("read"), _ => log.Add("write"));
        loop.Fake!.Inject(1000, Readiness.Writable);       // no write interest: dropped
        loop.Fake.Inject(1000, Readiness.Readable);
        loop.Fake.Inject(2000, Readiness.Readable);       // nobody watches 2000
        loop.Fake.RunUntilIdle();
        Assert.That(log, Is.EqualTo(new[] { "read" }));
        w.EnableWrite();
        loop.Fake.Inject(1000, Readiness.Readable | Readiness.Writable);
        loop.Fake.RunUntilIdle();
        Assert.That(log, Is.EqualTo(new[] { "read", "read", "write" }), "read before write");
    }

    [Test]
    public void ErrorAloneToErrorCallbackElseReadAndWrite()
    {
        using var loop = NewFake();
        var log = new List<string>();
        loop.Watch(5, WatchOptions.Read | WatchOptions.Write, _ => log.Add("read"), _ => log.Add("write"), _ => log.Add("error"));
        loop.Watch(6, WatchOptions.Read | WatchOptions.Write, _ => log.Add("read6"), _ => log.Add("write6"));
        loop.Fake!.Inject(5, Readiness.Error);
        loop.Fake.Inject(6, Readiness.Error);
        loop.Fake.RunUntilIdle();
        Assert.That(log, Is.EqualTo(new[] { "error", "read6", "write6" }));
    }

    [Test]
    public void HangUpForcesReadEvenWithoutReadInterestAndGoesToWriteWithoutReadCallback()
    {
        using var loop = NewFake();
        var log = new List<string>();
        loop.Watch(5, WatchOptions.Write, _ => log.Add("read5"), _ => log.Add("write5"));
        loop.Watch(6, WatchOptions.Write, null, _ => log.Add("write6"));
        loop.Fake!.Inject(5, Readiness.HangUp);
        loop.Fake.Inject(6, Readiness.HangUp);
        loop.Fake.RunUntilIdle();
        Assert.That(log, Is.EqualTo(new[] { "read5", "write6" }));
    }

    [Test]
    public void AWatcherCancelledByAnEarlierCallbackOfTheBatchGetsNothing()
    {
        using var loop = NewFake();
        var log = new List<string>();
        Watcher? b = null;
        loop.Watch(1, WatchOptions.Read, _ => { log.Add("a"); b!.Cancel(); }, null);
        b = loop.Watch(2, WatchOptions.Read, _ => log.Add("b"), null);
        loop.Fake!.Inject(1, Readiness.Readable);
        loop.Fake.Inject(2, Readiness.Readable);
        loop.Fake.RunUntilIdle();
        Assert.That(log, Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void AWatcherReplacedByAnEarlierCallbackOfTheBatchGetsNothingAndNeitherDoesItsReplacement()
    {
        using var loop = NewFake();
        var log = new List<string>();
        loop.Watch(1, WatchOptions.Read, l => { log.Add("a"); loop.Watch(2, WatchOptions.Read, _ => log.Add("b-new"), null); }, null);
        loop.Watch(2, WatchOptions.Read, _ => log.Add("b-old"), null);
        loop.Fake!.Inject(1, Readiness.Readable);
        loop.Fake.Inject(2, Readiness.Readable);
        loop.Fake.RunUntilIdle();
        // The report for fd 2 was already queued for the old watcher: it is dropped, the new one waits for its own.
        // (The fake delivers injected reports by fd, so the replacement sees it as the kernel would a MOD'ed fd.)
        Assert.That(log[0], Is.EqualTo("a"));
        Assert.That(log, Has.No.Member("b-old"));
    }

    [Test]
    public void WriteIsSkippedWhenTheReadCallbackReplacedTheWatcher()
    {
        using var loop = NewFake();
        var log = new List<string>();
        loop.Watch(3, WatchOptions.Read | WatchOptions.Write, w => { log.Add("read"); loop.Watch(3, WatchOptions.Read, _ => log.Add("new"), null); }, _ => log.Add("write"));
        loop.Fake!.Inject(3, Readiness.Readable | Readiness.Writable);
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(log, Is.EqualTo(new[] { "read" }));
    }

    [Test]
    public void OneShotIsDisarmedUntilReEnabled()
    {
        using var loop = NewFake();
        int hits = 0;
        var w = loop.Watch(9, WatchOptions.Read | WatchOptions.OneShot, _ => hits++, null);
        loop.Fake!.Inject(9, Readiness.Readable);
        loop.Fake.Inject(9, Readiness.Readable);
        loop.Fake.RunUntilIdle();
        Assert.That(hits, Is.EqualTo(1));
        w.EnableRead();
        loop.Fake.Inject(9, Readiness.Readable);
        loop.Fake.RunUntilIdle();
        Assert.That(hits, Is.EqualTo(2));
        Assert.That(loop.Fake.TryGetInterest(9, out var interest), Is.True);
        Assert.That(interest, Is.EqualTo(WatchOptions.Read | WatchOptions.OneShot));
    }

    [Test]
    public void VirtualClockOnlyMovesWhenAdvancedOrWhenTheLoopWouldSleep()
    {
        using var loop = NewFake();
        long t0 = loop.NowNanoseconds;
        var fired = new List<long>();
        loop.After(TimeSpan.FromHours(1), l => fired.Add(l.NowNanoseconds));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(loop.NowNanoseconds, Is.EqualTo(t0));
        loop.Fake!.Advance(TimeSpan.FromMinutes(59));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(fired, Is.Empty);
        loop.RunOnce();    // would sleep one minute: the virtual clock jumps to the deadline instead
        Assert.That(fired, Is.EqualTo(new[] { t0 + 3_600_000_000_000L }));
    }

    [Test]
    public void TheSameScriptGivesTheSameOrderEveryRun()
    {
        string Script()
        {
            using var loop = NewFake();
            var log = new List<string>();
            for (int i = 0; i < 20; i++)
            {
                int fd = 100 + i;
                loop.Watch(fd, WatchOptions.Read, _ => log.Add("fd" + fd), null);
                loop.After(TimeSpan.FromMilliseconds(i % 3), _ => log.Add("t" + fd));
            }
            for (int i = 19; i >= 0; i--) loop.Fake!.Inject(100 + i, Readiness.Readable);
            loop.Fake!.Advance(TimeSpan.FromMilliseconds(5));
            loop.Fake.RunUntilIdle();
            return string.Join(",", log);
        }
        var first = Script();
        for (int i = 0; i < 5; i++) Assert.That(Script(), Is.EqualTo(first));
        Assert.That(first, Does.StartWith("fd119,fd118"));
    }

    [Test]
    public void FakeInjectRejectsBadInput()
    {
        using var loop = NewFake();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Fake!.Inject(-1, Readiness.Readable));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Fake!.Inject(1, Readiness.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Fake!.Advance(TimeSpan.FromTicks(-1)));
    }

    [Test]
    public void FakeNeedsNoRealFdsForWatchers()
    {
        using var loop = NewFake();
        int before = Fds.Count();
        for (int i = 0; i < 100; i++) loop.Watch(10_000 + i, WatchOptions.Read, _ => { }, null);
        Assert.That(loop.WatcherCount, Is.EqualTo(100));
        Assert.That(Fds.CountSettled(before), Is.EqualTo(before));
    }
}
