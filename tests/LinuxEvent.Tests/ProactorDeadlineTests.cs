using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// Timeouts in the proactor's callback API (IORING_OP_LINK_TIMEOUT linked to the operation; the fake's virtual timer):
/// the distinct <see cref="OperationState.TimedOut"/> outcome, and the cases where the operation wins.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class ProactorDeadlineTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(30);

    private ProactorLoop Create() => (ProactorLoop)backend.Create();

    [Test]
    public void AReceiveWhoseTimeoutFiresSettlesOnceAsTimedOut()
    {
        using var loop = Create();
        using var wire = new Wire(loop);
        int callbacks = 0;
        var op = loop.Receive(wire.Local, new byte[8], Short, _ => callbacks++);
        Assert.That(op.LinkedTimeout, Is.EqualTo(Short));
        loop.RunUntil(() => op.IsSettled && callbacks > 0, Bound);
        Assert.That(op.State, Is.EqualTo(OperationState.TimedOut));
        var ex = Assert.Throws<LinuxEventTimeoutException>(() => op.GetResultOrThrow());
        Assert.That(ex!.Call, Is.EqualTo($"recv(fd={wire.Local})"));
        Assert.That(op.Cancel(), Is.False, "settled");
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(callbacks, Is.EqualTo(1));
        Assert.That(loop.LiveOperationCount, Is.Zero);

        // Resubmit re-arms the same timeout; this time the bytes win.
        loop.Resubmit(op);
        loop.RunOnce(TimeSpan.Zero);
        wire.Deliver("won");
        loop.RunUntil(() => op.IsSettled, Bound);
        Assert.That(op.State, Is.EqualTo(OperationState.Completed));
        Assert.That(op.Result, Is.EqualTo(3));
        Assert.That(loop.PendingTimerCount, Is.Zero, "the fake's timer is disarmed like the kernel's");
    }

    [Test]
    public void ACancelBeforeTheTimeoutIsCancelled()
    {
        using var loop = Create();
        using var wire = new Wire(loop);
        var op = loop.Receive(wire.Local, new byte[8], TimeSpan.FromSeconds(5));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(op.Cancel(), Is.True);
        loop.RunUntil(() => op.IsSettled, Bound);
        Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void BadTimeoutsAreRefused()
    {
        using var loop = Create();
        using var wire = new Wire(loop);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.Receive(wire.Local, new byte[8], TimeSpan.FromMilliseconds(-1)));
        Assert.That(ex!.ParamName, Is.EqualTo("timeout"));
        Assert.That(ex.Message, Does.Contain("ProactorLoop.Receive"));
        Assert.That(loop.LiveOperationCount, Is.Zero, "nothing was submitted");
    }

    [Test]
    public void AConnectTimeoutAbandonsAConnectionThatNeverCompletes()
    {
        // A listening socket with a full backlog and no accept: further SYNs are dropped, so a connect waits.
        using var loop = Create();
        if (loop.Fake is { } fake)
        {
            var op = loop.Connect(0, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9), Short);
            fake.Advance(Short);
            loop.RunUntil(() => op.IsSettled, Bound);
            Assert.That(op.State, Is.EqualTo(OperationState.TimedOut));
            return;
        }
        Assert.Pass("covered on the real ring by the receive tests (a never-completing connect needs a filtered network)");
    }
}

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
