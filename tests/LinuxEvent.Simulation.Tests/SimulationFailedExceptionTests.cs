namespace LinuxEvent.Simulation.Tests;

/// <summary><see cref="SimulationFailedException"/> has the standard constructors besides the seeded one.</summary>
public class SimulationFailedExceptionTests : FdCheckedTest
{
    [Test]
    public void TheStandardConstructorsKeepTheMessageAndTheInnerException()
    {
        var inner = new InvalidOperationException("inner");
        Assert.That(new SimulationFailedException().Message, Is.Not.Empty);
        var withMessage = new SimulationFailedException("stalled");
        Assert.That((withMessage.Message, withMessage.Failure, withMessage.Seed, withMessage.ReplayCommand), Is.EqualTo(("stalled", "stalled", 0UL, (string?)null)));
        var wrapping = new SimulationFailedException("threw", inner);
        Assert.That(wrapping.InnerException, Is.SameAs(inner));
        var seeded = new SimulationFailedException(42, "echo lost", "simulate --seed 42");
        Assert.That(seeded.Message, Does.Contain("seed 42").And.Contain("replay: simulate --seed 42"));
    }
}
