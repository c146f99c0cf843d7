using System.Runtime.InteropServices;

namespace LinuxEvent.Tests;

/// <summary>.NET manners of the loop's lifetime: tokens on Run and Spawn, DisposeAsync, PosixSignal, using on timers.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopLifetimeApiTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void RunWithATokenStopsWhenTheTokenIsCancelledFromAnotherThread()
    {
        using var loop = backend.Create();
        using var cts = new CancellationTokenSource();
        loop.Post(_ => new Thread(() => cts.Cancel()).Start());
        var t = new Thread(() => loop.Run(cts.Token));
        t.Start();
        Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True, "Run returned once the token was cancelled");
        loop.Run(cts.Token);                                    // already cancelled: returns at once
    }

    [Test]
    public void RunMainWithATokenReturnsWhenCancelled()
    {
        using var loop = backend.Create();
        using var cts = new CancellationTokenSource();
        bool reached = false;
        loop.Run(async () =>
        {
            reached = true;
            cts.Cancel();                                        // stops the loop like Stop
            await loop.DelayAsync(TimeSpan.FromHours(1));
        }, cts.Token);
        Assert.That(reached, Is.True);
    }

    [Test]
    public void SpawnWithATokenPassesItAndCompletesCancelledWithoutReportingAnError()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, e) => errors.Add(e);
        using var cts = new CancellationTokenSource();
        Task? task = null;
        loop.Post(_ => task = loop.Spawn(async ct => await loop.DelayAsync(TimeSpan.FromHours(1), ct), cts.Token));
        loop.RunUntil(() => task is not null);
        loop.RunOnce(TimeSpan.Zero);
        cts.Cancel();
        loop.RunUntil(() => task!.IsCompleted, TimeSpan.FromSeconds(10));
        Assert.That(task!.IsCanceled, Is.True);
        Assert.That(errors, Is.Empty, "cancelling a spawned task is not a failure");
        Assert.That(loop.Spawn(_ => Task.CompletedTask, cts.Token).IsCanceled, Is.True, "an already cancelled token starts nothing");
    }

    [Test]
    public async Task DisposeAsyncOfALoopRunningOnAnotherThreadCompletesOnceItLeft()
    {
        var loop = backend.Create();
        var started = new ManualResetEventSlim();
        var t = new Thread(() =>
        {
            loop.Post(_ => started.Set());
            loop.Run();
        });
        t.Start();
        Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True);
        var disposal = loop.DisposeAsync();
        await disposal.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(loop.IsDisposed, Is.True);
        Assert.That(loop.IsRunning, Is.False);
        Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void ATimerScopedByUsingIsCancelledAtTheEndOfTheBlock()
    {
        using var loop = backend.Create();
        bool fired = false;
        using (loop.After(TimeSpan.FromMilliseconds(1), _ => fired = true)) { }
        bool later = false;
        loop.After(TimeSpan.FromMilliseconds(20), _ => later = true);
        loop.RunUntil(() => later, TimeSpan.FromSeconds(5));
        Assert.That(fired, Is.False);
    }

    [Test]
    public void ASignalSubscribedAsPosixSignalIsDelivered()
    {
        using var loop = backend.Create();
        var usr1 = (PosixSignal)10;                               // raw Linux numbers cast to PosixSignal are accepted
        Assert.That(Posix.SignalNumber(PosixSignal.SIGTERM), Is.EqualTo(15));
        Assert.That(Posix.SignalNumber(PosixSignal.SIGHUP), Is.EqualTo(1));
        Assert.That(Posix.SignalNumber(usr1), Is.EqualTo(10));
        int got = 0;
        using var sub = loop.Signal(usr1, (_, e) => got = e.Number);
        Posix.Kill(Posix.GetProcessId(), usr1);
        loop.RunUntil(() => got != 0, TimeSpan.FromSeconds(10));
        Assert.That(got, Is.EqualTo(10));
    }
}
