namespace LinuxEvent.Net.Tests;

/// <summary>
/// The listener over a multishot accept stream, with its completions scripted: an EMFILE that ends the stream is
/// backed off by a timer on the virtual clock, and a burst beyond the per-iteration cap is handed out over later
/// iterations. Real io_uring cannot be made to fail an accept on demand, so these run on the fake proactor.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class MultishotListenerTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void EmfileOnTheProactorIsReportedAndBackedOffByATimerNotASpin()
    {
        using var loop = backend.Create();
        var p = (ProactorLoop)loop;
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var errors = new List<LinuxEventSocketException>();
        using var listener = Listener.FromSocket(loop, lfd, ownsSocket: true, (_, c) => Posix.Close(c.Fd),
            new ListenerOptions { ResourceErrorBackoff = TimeSpan.FromMilliseconds(250) });
        listener.OnError = (_, e) => errors.Add(e);
        var accept = p.Fake!.Pending.Single(o => o.Kind == OperationKind.AcceptMultishot);
        p.Fake.Fail(accept, 24);                    // EMFILE ends the multishot stream
        p.Fake.RunUntilIdle();
        Assert.That(errors.Single().ErrnoName, Is.EqualTo("EMFILE"));
        Assert.That(listener.IsBackingOff, Is.True);
        Assert.That(p.Fake.Pending.Any(o => o.Kind == OperationKind.AcceptMultishot), Is.False, "not re-armed at once");
        p.Fake.Advance(TimeSpan.FromMilliseconds(249));
        p.Fake.RunUntilIdle();
        Assert.That(p.Fake.Pending.Any(o => o.Kind == OperationKind.AcceptMultishot), Is.False);
        p.Fake.Advance(TimeSpan.FromMilliseconds(1));
        p.Fake.RunUntilIdle();
        Assert.That(p.Fake.Pending.Count(o => o.Kind == OperationKind.AcceptMultishot), Is.EqualTo(1), "re-armed after the backoff");
        Assert.That(listener.IsBackingOff, Is.False);
        // ECONNABORTED is per-connection: re-armed at once, not reported.
        p.Fake.Fail(p.Fake.Pending.Single(o => o.Kind == OperationKind.AcceptMultishot), 103);
        p.Fake.RunUntilIdle();
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(p.Fake.Pending.Count(o => o.Kind == OperationKind.AcceptMultishot), Is.EqualTo(1));
        listener.Dispose();
        p.Fake.RunUntilIdle();
    }

    [Test]
    public void MultishotBurstBeyondTheCapIsHandedOutOverLaterIterations()
    {
        using var loop = backend.Create();
        var p = (ProactorLoop)loop;
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var perIteration = new List<int>();
        int calls = 0;
        using var listener = Listener.FromSocket(loop, lfd, ownsSocket: true, (_, c) => { calls++; Posix.Close(c.Fd); },
            new ListenerOptions { MaxAcceptsPerIteration = 3, ResolvePeerEndPoint = false, NoDelay = false });
        var accept = p.Fake!.Pending.Single(o => o.Kind == OperationKind.AcceptMultishot);
        for (int i = 0; i < 10; i++)
        {
            var (r, w) = Posix.Pipe();                  // any fd stands for a connection here
            Posix.Close(w);
            p.Fake.DeliverAccepted(accept, r);
        }
        for (int i = 0; i < 10 && calls < 10; i++)
        {
            int before = calls;
            loop.RunOnce(TimeSpan.Zero);
            perIteration.Add(calls - before);
        }
        Assert.That(calls, Is.EqualTo(10));
        // The cap holds per iteration, as documented: the deferred pump that hands out the rest runs in the same iteration
        // as the multishot batch and used to reset the count (up to twice the cap).
        Assert.That(perIteration.Max(), Is.LessThanOrEqualTo(3), string.Join(",", perIteration));
        Assert.That(perIteration.Count(n => n > 0), Is.GreaterThan(1));
        listener.Dispose();
        p.Fake.RunUntilIdle();
    }
}
