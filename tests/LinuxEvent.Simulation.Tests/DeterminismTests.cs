using LinuxEvent.Simulate.Chat;
using LinuxEvent.Simulate.Redis;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// A seed is a run: the same seeds give the same trace hash whether they run once or twice, on one thread or several,
/// and one seed replays to a byte-identical trace. Different seeds explore different runs.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class DeterminismTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void TwoIdenticalRunsGiveTheSameTraceHash()
    {
        var first = Runner.Run(new ChatScenario(), 1, 12, [backend.Model], threads: 2);
        var second = Runner.Run(new ChatScenario(), 1, 12, [backend.Model], threads: 1);
        Assert.That(second.TraceHash, Is.EqualTo(first.TraceHash));
        Assert.That(second.Outcomes.Select(o => o.TraceHash), Is.EqualTo(first.Outcomes.Select(o => o.TraceHash)));
        var redis = Runner.Run(new RedisScenario(), 1, 6, [backend.Model], threads: 2);
        Assert.That(Runner.Run(new RedisScenario(), 1, 6, [backend.Model], threads: 2).TraceHash, Is.EqualTo(redis.TraceHash));
    }

    [Test]
    public void ASeedReplaysToAByteIdenticalTrace()
    {
        var scenario = new ChatScenario();
        var a = scenario.Run(42, backend.Model, recordTrace: true);
        var b = scenario.Run(42, backend.Model, recordTrace: true);
        Assert.That(a.TraceLines, Has.Count.GreaterThan(100));
        Assert.That(b.TraceLines, Is.EqualTo(a.TraceLines));
        Assert.That(b.TraceHash, Is.EqualTo(a.TraceHash));
        Assert.That(scenario.Run(42, backend.Model).TraceHash, Is.EqualTo(a.TraceHash), "recording the lines does not change the hash");
    }

    [Test]
    public void DifferentSeedsRunDifferently()
    {
        var scenario = new ChatScenario();
        var hashes = Enumerable.Range(1, 8).Select(s => scenario.Run((ulong)s, backend.Model).TraceHash).ToList();
        Assert.That(hashes.Distinct().Count(), Is.EqualTo(hashes.Count));
    }
}
