namespace LinuxEvent.Tests;

/// <summary>
/// The fake completion backend: its script controls refuse what the kernel could not do, it settles an operation when
/// the script completes it and runs the callback at the next dispatch, and the same script gives the same order on
/// every run. Also the stale-completion rule of multishot streams, whose race only the script can force.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class FakeProactorTests(Backend backend) : FdCheckedTest
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
    public void AStaleAcceptedFdForARetiredStreamIsClosedNotLeaked()
    {
        // The race (an accept CQE queued behind the stream's end) is scripted deterministically here; the uring backend
        // applies the same rule to stale CQEs.
        int listener = 1000;
        var accepted = new List<int>();
        var op = _loop.AcceptMultishot(listener, (_, fd) => accepted.Add(fd));
        var (x, y) = Posix.SocketPair();
        Posix.Close(y);
        F.DeliverAccepted(op, x);       // queued for dispatch...
        op.Cancel();                     // ...but the stream ends first
        F.RunUntilIdle();
        Assert.That(accepted, Is.Empty);
        Assert.That(Posix.IsOpen(x), Is.False, "the orphaned connection was closed");
    }

    // Regression (code review): the fake settles an operation when the script completes it and runs its callback at the
    // next dispatch; a resubmit in between would have reused the operation under a callback still to come.
    [Test]
    public void TheFakeRefusesAResubmitBeforeTheSettlementCallbackRan()
    {
        int calls = 0;
        var op = _loop.Read(3, new byte[4], -1, _ => calls++);
        F.CompleteRead(op, new byte[2]);
        var ex = Assert.Throws<InvalidOperationException>(() => _loop.Resubmit(op));
        Assert.That(ex!.Message, Does.Contain("callback has not run"));
        F.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        _loop.Resubmit(op);
        op.Cancel();
        F.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    public void TheFakeRejectsScriptsThatCannotHappen()
    {
        var op = _loop.Read(5, new byte[4], -1);
        Assert.Throws<ArgumentException>(() => F.CompleteRead(op, new byte[5]), "more than requested");
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Complete(op, 5));
        Assert.Throws<ArgumentException>(() => F.CompleteReceive(op, new byte[1]), "wrong kind");
        F.CompleteRead(op, new byte[2]);
        Assert.Throws<InvalidOperationException>(() => F.Complete(op, 1), "already settled");
        using var other = (ProactorLoop)backend.Create();
        var foreign = other.Read(1, new byte[1], -1);
        Assert.Throws<InvalidOperationException>(() => F.Complete(foreign, 0), "unknown to this loop");
        foreign.Cancel();
        other.Fake!.RunUntilIdle();
        F.RunUntilIdle();
    }

    [Test]
    public void TheSameFakeScriptGivesTheSameCallbackOrderEveryRun()
    {
        string Script()
        {
            using var loop = (ProactorLoop)backend.Create();
            var log = new List<string>();
            var reads = Enumerable.Range(0, 10).Select(i => loop.Read(100 + i, new byte[4], -1, o => log.Add("r" + o.FileDescriptor))).ToList();
            for (int i = 0; i < 5; i++) { int id = i; loop.Timeout(TimeSpan.FromMilliseconds(i % 2), _ => log.Add("t" + id)); }
            for (int i = 9; i >= 0; i -= 2) loop.Fake!.CompleteRead(reads[i], new byte[1]);
            loop.Fake!.Advance(TimeSpan.FromMilliseconds(1));
            loop.Fake.RunUntilIdle();
            foreach (var r in reads.Where(r => !r.IsSettled)) r.Cancel();
            loop.Fake.RunUntilIdle();
            return string.Join(",", log);
        }
        var first = Script();
        for (int i = 0; i < 5; i++) Assert.That(Script(), Is.EqualTo(first));
    }
}
