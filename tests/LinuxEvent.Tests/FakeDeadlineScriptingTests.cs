using System.Text;

namespace LinuxEvent.Tests;

/// <summary>The fakes script deadlines and chains on the virtual clock (both models where the model has them).</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class FakeDeadlineScriptingTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AFileReadNobodyServesTimesOutExactlyAtTheVirtualDeadline()
    {
        using var loop = backend.Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("slow", new byte[64]);
        long start = loop.NowNanoseconds;
        var read = loop.ReadAtAsync(fd, new byte[16], 0, TimeSpan.FromSeconds(2)).AsTask();
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(files.PendingCount, Is.EqualTo(1));
        loop.AdvanceVirtualClock(TimeSpan.FromMilliseconds(1999));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(read.IsCompleted, Is.False, "1 ms before the deadline");
        loop.AdvanceVirtualClock(TimeSpan.FromMilliseconds(1));
        loop.RunUntil(() => read.IsCompleted, TimeSpan.FromSeconds(5));
        var ex = Assert.ThrowsAsync<LinuxEventTimeoutException>(async () => await read);
        Assert.That(ex!.Call, Does.StartWith($"pread(fd={fd}"));
        Assert.That(loop.NowNanoseconds - start, Is.EqualTo(2_000_000_000L));
        Assert.That(files.PendingCount, Is.Zero, "the request left the fake's queue");
    }

    [Test]
    public void AShortWriteBreaksAChainOnTheFake()
    {
        using var loop = backend.Create();
        if (loop is not ProactorLoop { Fake: { } fake } proactor)
        {
            Assert.Pass("chains are a proactor API");
            return;
        }
        var chain = proactor.Link().Write(3, new byte[10], 0).Fdatasync(3).Close(3).Submit();
        fake.Complete(chain.Steps[0], 4);
        fake.RunUntilIdle();
        Assert.That(chain.Steps.Select(s => s.State), Is.EqualTo(new[] { OperationState.Completed, OperationState.Cancelled, OperationState.Cancelled }));
        Assert.That(chain.BrokenAt, Is.SameAs(chain.Steps[0]));
        Assert.That(fake.Pending, Is.Empty);
    }

    [Test]
    public void AChainedNopWaitsForTheStepBeforeIt()
    {
        using var loop = backend.Create();
        if (loop is not ProactorLoop { Fake: { } fake } proactor)
        {
            Assert.Pass("chains are a proactor API");
            return;
        }
        var chain = proactor.Link().Write(3, Encoding.ASCII.GetBytes("x"), 0).Nop().Submit();
        fake.RunUntilIdle();
        Assert.That(chain.Steps[1].State, Is.EqualTo(OperationState.Pending), "a nop in a chain does not run before its turn");
        fake.Complete(chain.Steps[0], 1);
        fake.RunUntilIdle();
        Assert.That(chain.Steps[1].State, Is.EqualTo(OperationState.Completed));
    }
}
