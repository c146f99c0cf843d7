namespace LinuxEvent.Tests;

/// <summary>
/// Timer rules that only a clock moving on its own can show: the real backends. (A virtual clock moves only through
/// the fake's controls, which refresh the loop's cached time as they move it.)
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class TimerRealClockTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ATimerScheduledBeforeRunIsRelativeToWhenItWasScheduled()
    {
        using var loop = backend.Create();
        // The real clock has moved since the loop was created (and last read it). A deadline computed from that stale
        // reading would lie before "now + delay".
        long before = Loop.MonotonicNanoseconds();
        var t = loop.After(TimeSpan.FromMilliseconds(20), _ => { });
        Assert.That(t.DeadlineNanoseconds, Is.GreaterThanOrEqualTo(before + 20_000_000), "relative to the call, not to the loop's creation");
        t.Cancel();
    }
}
