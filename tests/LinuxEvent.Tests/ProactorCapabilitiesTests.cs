namespace LinuxEvent.Tests;

/// <summary>What a proactor reports of its kernel: the io_uring probe on a real ring, nothing on the fake.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class ProactorCapabilitiesTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void CapabilitiesAreReportedByARealRingAndAbsentOnTheFake()
    {
        using var loop = (ProactorLoop)backend.Create();
        if (backend.IsFake)
        {
            Assert.That(loop.Capabilities, Is.Null, "the fake has no kernel to probe");
            return;
        }
        var caps = loop.Capabilities!;
        Assert.That(caps.Supports(0), Is.True, "IORING_OP_NOP");
        Assert.That(caps.SubmissionQueueEntries, Is.GreaterThanOrEqualTo(256u));
        Assert.That(caps.ToString(), Is.Not.Empty);
    }
}
