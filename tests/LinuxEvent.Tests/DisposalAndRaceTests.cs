namespace LinuxEvent.Tests;

/// <summary>Regression tests from the code review: disposal and completion paths that used to hang or corrupt state.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class DisposalAndRaceTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void RunMainReturnsWhenMainCompletesOnAnotherThread()
    {
        using var loop = backend.Create();
        var done = new TaskCompletionSource();
        var setter = new Thread(() => done.SetResult());
        loop.Post(_ => setter.Start());
        var run = Task.Run(() => loop.Run(() => done.Task));     // nothing on the loop wakes it but main's completion
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run(main) returned");
        setter.Join();
    }

    [Test]
    public void PendingAwaitsCompleteWhenTheLoopIsDisposed()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task? receive = null, delay = null;
        try
        {
            loop.Run(async () =>
            {
                receive = loop.ReceiveAsync(a, new byte[8]).AsTask();
                delay = loop.DelayAsync(TimeSpan.FromHours(1)).AsTask();
                await Task.Yield();
            });
            Assert.That(receive!.IsCompleted || delay!.IsCompleted, Is.False, "both still waiting");
            loop.Dispose();
            Assert.That(receive.IsCompleted, Is.True, "the receive resumed");
            Assert.That(delay!.IsCompleted, Is.True, "the delay resumed");
            Assert.That(receive.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>(), "the same outcome on every backend");
            Assert.That(delay.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>());
        }
        finally
        {
            loop.Dispose();
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void DisposeFromAnotherThreadDoesNotHangWhenACallbackThrowsDuringDisposal()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var started = new ManualResetEventSlim();
            if (loop is ProactorLoop p)
                loop.Post(_ => p.Receive(a, new byte[8], op => op.GetResultOrThrow()));   // throws when cancelled by disposal
            else
                loop.Post(l => l.Spawn(async () => { await l.ReceiveAsync(a, new byte[8]); }));
            loop.After(TimeSpan.FromMilliseconds(1), _ => started.Set());
            var run = Task.Run(() => { try { loop.Run(); } catch (Exception) { } });
            Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True);
            var dispose = Task.Run(loop.Dispose);
            Assert.That(dispose.Wait(TimeSpan.FromSeconds(10)), Is.True, "Dispose returned");
            Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run returned");
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void ADeadlineFarInThePastFiresOnTheNextIteration()
    {
        using var loop = backend.Create();
        int fired = 0;
        loop.At(long.MinValue + 1, _ => fired++);
        loop.RunOnce(TimeSpan.FromSeconds(5));
        Assert.That(fired, Is.EqualTo(1));
    }
}

[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class ResubmitRollbackTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AResubmitThatThrowsLeavesTheOperationSettled()
    {
        var loop = (ProactorLoop)backend.Create();
        var op = loop.Nop();
        loop.RunUntil(() => op.IsSettled);
        if (loop.Fake is { } f) f.RunUntilIdle();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Resubmit(op));
        Assert.That(op.State, Is.EqualTo(OperationState.Completed), "still the settled result, not a stuck Pending");
        Assert.That(op.Cancel(), Is.False);
    }

    [Test]
    public void TheFakeRefusesAResubmitBeforeTheSettlementCallbackRan()
    {
        if (!backend.IsFake) Assert.Ignore("Only the fake settles before it dispatches.");
        using var loop = (ProactorLoop)backend.Create();
        int calls = 0;
        var op = loop.Read(3, new byte[4], -1, _ => calls++);
        loop.Fake!.CompleteRead(op, new byte[2]);
        var ex = Assert.Throws<InvalidOperationException>(() => loop.Resubmit(op));
        Assert.That(ex!.Message, Does.Contain("callback has not run"));
        loop.Fake.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        loop.Resubmit(op);
        op.Cancel();
        loop.Fake.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(2));
    }
}
