namespace LinuxEvent.Tests;

/// <summary>
/// Cancellation on the fake proactor as io_uring really does it: a request that the script resolves. The cancel may
/// win, the completion may win (Cancel() returned true and the operation still completes with its result), or the
/// cancel may get -EALREADY. The default mode keeps the old, immediate answer.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class FakeCancelScriptTests(Backend backend) : FdCheckedTest
{
    private ProactorLoop _loop = null!;
    private FakeCompletions F => _loop.Fake!;

    [SetUp]
    public void CreateLoop() => _loop = (ProactorLoop)backend.Create();

    [TearDown]
    public void DisposeLoop()
    {
        Assert.That(_loop.LiveOperationCount, Is.Zero, "every operation settled");
        _loop.Dispose();
    }

    [Test]
    public void ByDefaultACancelSettlesAtOnce()
    {
        Assert.That(F.CancelMode, Is.EqualTo(FakeCancelMode.Immediate));
        int calls = 0;
        var op = _loop.Receive(7, new byte[8], _ => calls++);
        Assert.That(op.Cancel(), Is.True);
        Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(F.CancelRequests, Is.Empty);
        F.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void ScriptedTheCancelIsARequestUntilTheScriptConfirmsIt()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        var requested = new List<Operation>();
        F.CancelRequested = requested.Add;
        int calls = 0;
        var op = _loop.Receive(7, new byte[8], _ => calls++);
        Assert.That(op.Cancel(), Is.True);
        Assert.That(op.Cancel(), Is.False, "one request per operation");
        Assert.That(op.State, Is.EqualTo(OperationState.Pending));
        Assert.That(F.CancelRequests, Is.EqualTo(new[] { op }));
        Assert.That(requested, Is.EqualTo(new[] { op }));
        F.RunUntilIdle();
        Assert.That(calls, Is.Zero, "nothing settled yet");
        F.ConfirmCancel(op);
        Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(F.CancelRequests, Is.Empty);
        F.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        Assert.Throws<InvalidOperationException>(() => F.ConfirmCancel(op), "already settled");
    }

    [Test]
    public void CancelReturnedTrueThenTheCompletionWonAndKeepsItsBytes()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        var buffer = new byte[8];
        Operation? seen = null;
        var op = _loop.Receive(7, buffer, o => seen = o);
        Assert.That(op.Cancel(), Is.True);
        F.CompleteReceive(op, "hello"u8);                  // the kernel had finished first
        F.RunUntilIdle();
        Assert.That(seen, Is.SameAs(op));
        Assert.That(op.State, Is.EqualTo(OperationState.Completed));
        Assert.That(op.Result, Is.EqualTo(5));
        Assert.That(buffer.AsSpan(0, 5).SequenceEqual("hello"u8), Is.True);
        Assert.That(F.CancelRequests, Is.Empty);
    }

    [Test]
    public void ACancelRejectedWithEalreadyLeavesTheOperationToCompleteNormally()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        int calls = 0;
        var op = _loop.Send(7, new byte[10], _ => calls++);
        Assert.That(op.Cancel(), Is.True);
        F.RejectCancel(op);
        Assert.That(F.CancelRequests, Is.Empty);
        Assert.That(op.State, Is.EqualTo(OperationState.Pending));
        Assert.That(op.Cancel(), Is.False, "its one cancel request was answered");
        Assert.Throws<InvalidOperationException>(() => F.ConfirmCancel(op), "no cancel request is unanswered");
        F.RunUntilIdle();
        Assert.That(calls, Is.Zero);
        F.Complete(op, 10);
        F.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(op.State, Is.EqualTo(OperationState.Completed));
    }

    [Test]
    public async Task AnAwaitedReceiveWhoseTokenFiredStillReturnsTheBytesTheKernelDelivered()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        using var cts = new CancellationTokenSource();
        var buffer = new byte[8];
        var task = _loop.ReceiveAsync(7, buffer, cts.Token).AsTask();
        cts.Cancel();                                      // posted to the loop, which makes the request
        _loop.RunOnce(TimeSpan.Zero);
        var op = F.CancelRequests.Single();
        F.CompleteReceive(op, "abc"u8);
        F.RunUntilIdle();
        Assert.That(task.IsCompletedSuccessfully, Is.True, "the completion won: no bytes lost to the cancel");
        Assert.That(await task, Is.EqualTo(3));
    }

    [Test]
    public void ATimeoutThatFiresBeforeTheScriptAnswersTheCancelCompletes()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        var op = _loop.Timeout(TimeSpan.FromMilliseconds(5));
        Assert.That(op.Cancel(), Is.True);
        F.Advance(TimeSpan.FromMilliseconds(5));
        F.RunUntilIdle();
        Assert.That(op.State, Is.EqualTo(OperationState.Completed), "expiry won the race");
        Assert.That(F.CancelRequests, Is.Empty);

        var second = _loop.Timeout(TimeSpan.FromMilliseconds(5));
        second.Cancel();
        F.ConfirmCancel(second);
        F.Advance(TimeSpan.FromMilliseconds(10));
        F.RunUntilIdle();
        Assert.That(second.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(_loop.PendingTimerCount, Is.Zero, "a confirmed cancel also stops the timer");
    }

    [Test]
    public void DisposalSettlesUnansweredCancelRequests()
    {
        F.CancelMode = FakeCancelMode.Scripted;
        int calls = 0;
        var op = _loop.Receive(7, new byte[8], _ => calls++);
        op.Cancel();
        Assert.Throws<InvalidOperationException>(() => F.CancelMode = FakeCancelMode.Immediate, "requests are unanswered");
        _loop.Dispose();
        Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(calls, Is.EqualTo(1));
    }
}
