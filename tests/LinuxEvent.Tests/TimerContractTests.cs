namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class TimerContractTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void EqualDeadlinesFireInSchedulingOrder()
    {
        using var loop = backend.Create();
        var order = new List<int>();
        long deadline = loop.NowNanoseconds + 2_000_000;
        for (int i = 0; i < 10; i++)
        {
            int id = i;
            loop.At(deadline, _ => order.Add(id));
        }
        loop.RunUntil(() => order.Count == 10);
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 10)));
    }

    [Test]
    public void StatePassingTimersTakeValueTypeStates()
    {
        // A struct or primitive state must reach the callback intact (the state-passing overloads once accepted
        // reference types only: a value type did not compile).
        using var loop = backend.Create();
        var seen = new List<string>();
        loop.After(TimeSpan.FromMilliseconds(1), 42, (_, n) => seen.Add($"after {n}"));
        loop.At(loop.NowNanoseconds + 2_000_000, (Id: 7, Name: "x"), (_, s) => seen.Add($"at {s.Id} {s.Name}"));
        int ticks = 0;
        TimerHandle? every = null;
        every = loop.Every(TimeSpan.FromMilliseconds(1), 3.5, (_, d) => { seen.Add($"every {d}"); if (++ticks == 2) every!.Cancel(); });
        loop.After(TimeSpan.FromMilliseconds(1), "ref", (_, s) => seen.Add($"after {s}"));
        loop.RunUntil(() => seen.Count == 5);
        Assert.That(seen, Is.EquivalentTo(new[] { "after 42", "at 7 x", "every 3.5", "every 3.5", "after ref" }));
    }

    [Test]
    public void EarlierDeadlineFiresFirstWhateverTheSchedulingOrder()
    {
        using var loop = backend.Create();
        var order = new List<string>();
        loop.After(TimeSpan.FromMilliseconds(6), _ => order.Add("late"));
        loop.After(TimeSpan.FromMilliseconds(2), _ => order.Add("early"));
        loop.After(TimeSpan.FromMilliseconds(4), _ => order.Add("middle"));
        loop.RunUntil(() => order.Count == 3);
        Assert.That(order, Is.EqualTo(new[] { "early", "middle", "late" }));
    }

    [Test]
    public void CancellingASiblingInTheSameBatchSuppressesIt()
    {
        using var loop = backend.Create();
        long deadline = loop.NowNanoseconds + 1_000_000;
        var fired = new List<string>();
        TimerHandle? second = null;
        bool cancelResult = false;
        loop.At(deadline, _ => { fired.Add("first"); cancelResult = second!.Cancel(); });
        second = loop.At(deadline, _ => fired.Add("second"));
        loop.At(deadline, _ => fired.Add("third"));
        loop.RunUntil(() => fired.Count >= 2);
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(fired, Is.EqualTo(new[] { "first", "third" }));
        Assert.That(cancelResult, Is.True, "cancelling a due-but-unfired timer reports true");
        Assert.That(second!.Cancel(), Is.False, "second cancel is a no-op");
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }

    [Test]
    public void CancelAfterFiringReturnsFalse()
    {
        using var loop = backend.Create();
        int fired = 0;
        var t = loop.After(TimeSpan.FromMilliseconds(1), _ => fired++);
        loop.RunUntil(() => fired == 1);
        Assert.That(t.Cancel(), Is.False);
        Assert.That(t.IsActive, Is.False);
    }

    [Test]
    public void AfterZeroFiresOnTheNextIterationNotTheCurrentOne()
    {
        using var loop = backend.Create();
        var log = new List<string>();
        loop.After(TimeSpan.Zero, l =>
        {
            log.Add("outer");
            l.After(TimeSpan.Zero, _ => log.Add("inner"));
        });
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(log, Is.EqualTo(new[] { "outer" }), "a zero-delay timer scheduled by a timer waits for the next iteration");
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(log, Is.EqualTo(new[] { "outer", "inner" }));
    }

    [Test]
    public void AtInThePastFiresOnTheNextIteration()
    {
        using var loop = backend.Create();
        int fired = 0;
        loop.At(loop.NowNanoseconds - 1_000_000_000, _ => fired++);
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(fired, Is.EqualTo(1));
    }

    // Regression (code review): a deadline near long.MinValue wrapped around when the wait timeout was computed.
    [Test]
    public void ADeadlineFarInThePastFiresOnTheNextIteration()
    {
        using var loop = backend.Create();
        int fired = 0;
        loop.At(long.MinValue + 1, _ => fired++);
        loop.RunOnce(TimeSpan.FromSeconds(5));
        Assert.That(fired, Is.EqualTo(1));
    }

    [Test]
    public void HugeDelayNeverWrapsIntoThePast()
    {
        using var loop = backend.Create();
        int fired = 0;
        var t = loop.After(TimeSpan.MaxValue, _ => fired++);
        Assert.That(t.DeadlineNanoseconds, Is.EqualTo(long.MaxValue));
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.FromMilliseconds(1));
        Assert.That(fired, Is.Zero);
        Assert.That(t.Cancel(), Is.True);
    }

    [Test]
    public void EveryIsDriftFreeAndKeepsItsPhase()
    {
        using var loop = backend.Create();
        var interval = TimeSpan.FromMilliseconds(5);
        var deadlines = new List<long>();
        TimerHandle? t = null;
        t = loop.Every(interval, _ => deadlines.Add(t!.DeadlineNanoseconds));
        long start = t.DeadlineNanoseconds - 5_000_000;          // the grid's origin: when Every was called
        loop.RunUntil(() => deadlines.Count == 3);
        // Each deadline lies on the grid start + k * interval, however late each callback ran. On a real clock a
        // stall longer than the interval (a busy machine) legitimately skips a tick; on the virtual clock none does.
        Assert.That(deadlines.Select(d => (d - start) % 5_000_000), Is.All.Zero, "the phase is kept");
        Assert.That(deadlines, Is.Ordered.Ascending.And.Unique);
        if (backend.IsFake) Assert.That(deadlines, Is.EqualTo(new[] { start + 5_000_000, start + 10_000_000, start + 15_000_000 }));
        Assert.That(t.Cancel(), Is.True);
        Assert.That(t.Cancel(), Is.False);
    }

    [Test]
    public void BadArgumentsThrowAndRegisterNothing()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.After(TimeSpan.FromTicks(-1), _ => { }));
        Assert.That(ex!.ParamName, Is.EqualTo("delay"));
        Assert.That(ex.Message, Does.Contain("Loop.After"));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Every(TimeSpan.Zero, _ => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Every(TimeSpan.FromSeconds(-1), _ => { }));
        Assert.Throws<ArgumentNullException>(() => loop.After(TimeSpan.Zero, null!));
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }

    [Test]
    public void RestartReusesTheHandle()
    {
        using var loop = backend.Create();
        int fired = 0;
        var t = loop.After(TimeSpan.FromMilliseconds(1), _ => fired++);
        loop.RunUntil(() => fired == 1);
        t.Restart(TimeSpan.FromMilliseconds(1));
        Assert.That(t.IsActive, Is.True);
        loop.RunUntil(() => fired == 2);
        t.Restart(TimeSpan.FromMilliseconds(50));
        t.Restart(TimeSpan.FromMilliseconds(1));      // restarting a pending timer moves it
        loop.RunUntil(() => fired == 3);
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }

    [Test]
    public void StatePassingOverloadsPassTheState()
    {
        using var loop = backend.Create();
        var box = new List<string>();
        loop.After(TimeSpan.Zero, box, static (_, b) => b.Add("after"));
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(box, Is.EqualTo(new[] { "after" }));
    }

    [Test]
    public void SubMillisecondDelayIsNotABusyLoop()
    {
        using var loop = backend.Create();
        bool fired = false;
        long start = loop.NowNanoseconds;
        loop.After(TimeSpan.FromMicroseconds(300), _ => fired = true);
        int iterations = 0;
        while (!fired && iterations < 100) { loop.RunOnce(); iterations++; }
        Assert.That(fired, Is.True);
        Assert.That(iterations, Is.LessThanOrEqualTo(3), "the wait slept until the deadline instead of spinning with zero timeouts");
        Assert.That(loop.NowNanoseconds - start, Is.GreaterThanOrEqualTo(300_000));
    }
}
