using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>ProcessPool's queue: cancelling queued children, draining, and a child's umask.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ProcessPoolTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void CancelQueuedStartsNoneOfThemAndDrainWaitsForTheRunningOnes()
    {
        using var loop = backend.Create();
        var pool = new ProcessPool(loop, maxConcurrent: 1);
        int exits = 0, startErrors = 0, drainedCallbacks = 0;
        pool.OnDrained = _ => drainedCallbacks++;
        var running = pool.Enqueue(new ProcessSpec("sleep", "0.2") { Stdout = StdioMode.Null, Stderr = StdioMode.Null }, onExit: (_, _) => exits++);
        var queued = Enumerable.Range(0, 3).Select(_ =>
        {
            var c = pool.Enqueue(new ProcessSpec("true") { Stdout = StdioMode.Null, Stderr = StdioMode.Null }, onExit: (_, _) => exits++);
            c.OnStartError = (_, _) => startErrors++;
            return c;
        }).ToArray();
        loop.RunUntil(() => pool.Running == 1, TimeSpan.FromSeconds(10));
        Task? drained = null;
        loop.Post(_ => drained = pool.DrainAsync(cancelQueued: true));
        loop.RunUntil(() => drained is { IsCompleted: true }, TimeSpan.FromSeconds(10));
        Assert.That(exits, Is.EqualTo(1), "only the running child ran");
        Assert.That(startErrors, Is.EqualTo(3));
        Assert.That(queued.Select(c => c.StartError), Is.All.InstanceOf<OperationCanceledException>());
        Assert.That(queued.Select(c => c.Pid), Is.All.EqualTo(0), "none of them was spawned");
        Assert.That(pool.Queued + pool.Running, Is.Zero);
        Assert.That(drainedCallbacks, Is.EqualTo(1));
        Assert.That(running.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void AChildCanHaveItsOwnUmask()
    {
        using var loop = backend.Create();
        var output = new StringBuilder();
        ProcessExit? exit = null;
        var spec = new ProcessSpec("sh", "-c", "umask") { Umask = UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute };
        var child = ChildProcess.Start(loop, spec, (_, e) => exit = e);
        child.Stdout!.OnData = (_, d) => output.Append(Encoding.ASCII.GetString(d));
        child.Stdout.Start();
        child.Stderr!.OnData = (_, _) => { };
        child.Stderr.Start();
        loop.RunUntil(() => exit is not null && child.Stdout.IsClosed, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value.ExitCode, Is.Zero);
        Assert.That(output.ToString().Trim(), Is.EqualTo("0027"));
    }
}
