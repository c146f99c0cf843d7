namespace LinuxEvent.Tests;

/// <summary>The meter costs nothing while nobody listens: idle iterations allocate nothing.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class MeterCostTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void IdleIterationsAllocateNothing()
    {
        using var loop = backend.Create();
        for (int i = 0; i < 100; i++) loop.RunOnce(TimeSpan.Zero);       // warm up (JIT, first-use allocations)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) loop.RunOnce(TimeSpan.Zero);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, $"{allocated} B over 10,000 idle iterations");
        Assert.That(loop.Metrics.Iterations, Is.EqualTo(10_100));
    }
}
