namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.All))]
public class ProcessTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ExitCodeIsDecoded()
    {
        using var loop = backend.Create();
        int pid = Posix.Spawn("sh", new[] { "-c", "exit 42" });
        ProcessExit? exit = null;
        var sub = loop.WatchProcess(pid, (_, e) => exit = e);
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value, Is.EqualTo(new ProcessExit { Pid = pid, Exited = true, ExitCode = 42, StatusAvailable = true }));
        Assert.That(sub.IsActive, Is.False);
        Assert.That(sub.Cancel(), Is.False);
        Assert.That(loop.ProcessWatchCount, Is.Zero);
    }

    [Test]
    public void KillNineIsDecodedAsSignaled()
    {
        using var loop = backend.Create();
        int pid = Posix.Spawn("sleep", new[] { "30" });
        ProcessExit? exit = null;
        loop.WatchProcess(pid, (_, e) => exit = e);
        Posix.Kill(pid, 9);
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value.Signaled, Is.True);
        Assert.That(exit.Value.Signal, Is.EqualTo(9));
        Assert.That(exit.Value.Exited, Is.False);
        Assert.That(exit.Value.CoreDumped, Is.False);
    }

    [Test]
    public void OnlyTheWatchedChildIsReaped()
    {
        using var loop = backend.Create();
        int watched = Posix.Spawn("true", Array.Empty<string>());
        int other = Posix.Spawn("true", Array.Empty<string>());
        ProcessExit? exit = null;
        loop.WatchProcess(watched, (_, e) => exit = e);
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        // The other child is still ours to reap: the library never waited for it.
        ProcessExit? otherExit = null;
        loop.WatchProcess(other, (_, e) => otherExit = e);
        loop.RunUntil(() => otherExit is not null, TimeSpan.FromSeconds(10));
        Assert.That(otherExit!.Value.StatusAvailable, Is.True);
        Assert.That(otherExit.Value.ExitCode, Is.Zero);
    }

    [Test]
    public void CancelStopsWatchingWithoutReaping()
    {
        using var loop = backend.Create();
        int pid = Posix.Spawn("sleep", new[] { "30" });
        int calls = 0;
        var sub = loop.WatchProcess(pid, (_, _) => calls++);
        Assert.That(sub.Cancel(), Is.True);
        Assert.That(sub.Cancel(), Is.False);
        Posix.Kill(pid, 9);
        ProcessExit? exit = null;
        loop.WatchProcess(pid, (_, e) => exit = e);      // still a zombie we can reap
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(calls, Is.Zero);
        Assert.That(exit!.Value.Signal, Is.EqualTo(9));
    }

    [Test]
    public void SignalGoesThroughThePidfd()
    {
        using var loop = backend.Create();
        int pid = Posix.Spawn("sleep", new[] { "30" });
        ProcessExit? exit = null;
        var sub = loop.WatchProcess(pid, (_, e) => exit = e);
        sub.SendSignal(15);
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value.Signal, Is.EqualTo(15));
        var ended = Assert.Throws<InvalidOperationException>(() => sub.SendSignal(15));
        Assert.That(ended!.Message, Does.Contain("has ended"));
    }

    [Test]
    public void NonexistentPidIsEsrch()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<LinuxEventException>(() => loop.WatchProcess(int.MaxValue, (_, _) => { }));
        Assert.That(ex!.ErrnoName, Is.EqualTo("ESRCH"));
        Assert.That(ex.Call, Is.EqualTo($"pidfd_open(pid={int.MaxValue})"));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.WatchProcess(0, (_, _) => { }));
        Assert.That(loop.ProcessWatchCount, Is.Zero);
    }

    [Test]
    public void SpawningAMissingProgramIsAClearError()
    {
        var ex = Assert.Throws<LinuxEventException>(() => Posix.Spawn("no-such-program-linuxevent", Array.Empty<string>()));
        Assert.That(ex!.ErrnoName, Is.EqualTo("ENOENT"));
        Assert.That(ex.Message, Does.Contain("no-such-program-linuxevent"));
    }
}
