using LinuxEvent.Simulate.Chat;
using LinuxEvent.Simulate.Redis;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// Hundreds of seeds of each scenario, on each model's fake: the examples' chat room and mini-redis keep their
/// invariants under every seed's faults. A failure names the seed and the command that replays it.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class ScenarioSeedTests(Backend backend) : FdCheckedTest
{
    private const int ChatSeeds = 200, RedisSeeds = 150;

    private static void Expect(Runner.Batch batch)
    {
        var failures = batch.Outcomes.Where(o => !o.Passed).Select(o => o.Describe()).ToList();
        Assert.That(failures, Is.Empty, $"{failures.Count} run(s) failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
        TestContext.Out.WriteLine($"{batch.Seeds} seeds in {batch.Elapsed.TotalSeconds:0.0} s ({batch.SeedsPerMinute:0} seeds/min), trace-hash {batch.TraceHash:x16}");
    }

    [Test]
    public void ChatKeepsItsInvariantsOnEverySeed()
        => Expect(Runner.Run(new ChatScenario(), first: 1, ChatSeeds, [backend.Model], Environment.ProcessorCount));

    [Test]
    public void RedisAnswersEveryCommandAsItsModelSays()
        => Expect(Runner.Run(new RedisScenario(), first: 1, RedisSeeds, [backend.Model], Environment.ProcessorCount));
}
