using LinuxEvent.Simulate.Chat;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// The simulation catches a real bug and replays it: a chat room that loses the part of a line a short read leaves
/// behind (<see cref="LineDroppingChatRoom"/>) passes without faults, fails under the seeds' partial I/O, and the failing
/// seed replays to the same failure and the same trace.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class BrokenVariantTests(Backend backend) : FdCheckedTest
{
    private static ChatScenario Broken() => new(LineDroppingChatRoom.RunAsync, "chat-broken");

    [Test]
    public void TheBrokenRoomIsCaughtAndItsSeedReplaysTheFailure()
    {
        var scenario = Broken();
        SimulationOutcome? failed = null;
        for (ulong seed = 1; seed <= 40 && failed is null; seed++)
        {
            var outcome = scenario.Run(seed, backend.Model, faults: new FaultProfile { PartialIo = 0.3 });
            if (!outcome.Passed) failed = outcome;
        }
        Assert.That(failed, Is.Not.Null, "partial I/O must expose the lost line fragments");
        string report = failed!.Describe();
        TestContext.Out.WriteLine(report);
        Assert.That(report, Does.Contain($"seed {failed.Seed}"));
        Assert.That(report, Does.Contain($"--scenario chat-broken --seed {failed.Seed} --model {Scenario.ModelName(backend.Model)}"));

        var replay = scenario.Run(failed.Seed, backend.Model, recordTrace: true, faults: new FaultProfile { PartialIo = 0.3 });
        Assert.That(replay.Failure, Is.EqualTo(failed.Failure), "the seed replays the same failure");
        Assert.That(replay.TraceHash, Is.EqualTo(failed.TraceHash), "and the same run");
        Assert.That(replay.TraceLines.Any(l => l.Contains("FAIL", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void WithoutFaultsTheBrokenRoomPasses()
    {
        // The bug needs the fault: the same room is fine when every line arrives in one piece.
        var scenario = Broken();
        for (ulong seed = 1; seed <= 5; seed++)
        {
            var outcome = scenario.Run(seed, backend.Model, faults: FaultProfile.None);
            Assert.That(outcome.Passed, Is.True, outcome.Describe());
        }
    }

    [Test]
    public void TheRunnerFindsItUnderTheSeedsOwnFaultsToo()
    {
        var batch = Runner.Run(Broken(), 1, 10, [backend.Model], threads: 2);
        Assert.That(batch.FailedSeeds, Is.GreaterThan(0));
        Assert.That(batch.Outcomes.First(o => !o.Passed).ReplayCommand, Does.StartWith("dotnet run -c Release --project tools/LinuxEvent.Simulate -- --scenario chat-broken --seed "));
    }
}
