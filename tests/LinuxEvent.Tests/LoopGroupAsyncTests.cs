namespace LinuxEvent.Tests;

/// <summary>
/// The .NET manners of a <see cref="LoopGroup"/>'s end (issue 13 §6): a cancellable <c>Join</c>, <c>JoinAsync</c>, and
/// <c>DisposeAsync</c> that stops, waits for every loop thread's teardown and disposal, and blocks no thread meanwhile.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Models))]
public class LoopGroupAsyncTests(LoopModel model) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Test]
    public async Task JoinAsyncCompletesOnlyOnceEveryLoopHasEnded()
    {
        using var group = LoopGroup.Start(2, model, (_, _) => { });
        var joined = group.JoinAsync();
        Assert.That(joined.IsCompleted, Is.False, "the loops run until stopped");
        group.Stop();
        await joined.WaitAsync(Bound);
        Assert.That(group.Loops.All(l => l.IsDisposed), Is.True, "each loop's thread disposed its loop before the join completed");
    }

    [Test]
    public void JoinAsyncCancelledEndsTheWaitAndLeavesTheLoopsRunning()
    {
        using var group = LoopGroup.Start(2, model, (_, _) => { });
        using var cts = new CancellationTokenSource();
        var joined = group.JoinAsync(cts.Token);
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await joined.WaitAsync(Bound));
        using var ran = new ManualResetEventSlim();
        group.Loops[1].Post(_ => ran.Set());
        Assert.That(ran.Wait(Bound), Is.True, "cancelling the wait does not stop the loops");
    }

    [Test]
    public void JoinWithATokenThrowsWhenCancelledFromAnotherThreadAndTimesOutWithoutOne()
    {
        using var group = LoopGroup.Start(1, model, (_, _) => { });
        Assert.That(group.Join(TimeSpan.Zero), Is.False, "a running loop has not ended");
        Assert.That(group.Join(TimeSpan.FromMilliseconds(1), CancellationToken.None), Is.False);
        using var cts = new CancellationTokenSource();
        // Cancelled by the loop itself, so the test waits for an event rather than a time.
        group.Loops[0].Post(_ => cts.Cancel());
        Assert.Catch<OperationCanceledException>(() => group.Join(null, cts.Token));
        Assert.That(group.Loops[0].IsDisposed, Is.False);
        group.Stop();
        Assert.That(group.Join(Bound, CancellationToken.None), Is.True);
    }

    [Test]
    public void JoinAsyncThrowsTheExceptionsThatEndedLoops()
    {
        var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var group = LoopGroup.Start(2, _ => Loop.Create(model), (_, _) => { },
            onLoopFailed: (_, _, _) => died.TrySetResult());
        group.Loops[0].Post(_ => throw new InvalidDataException("boom in loop 0"));
        Assert.That(died.Task.Wait(Bound), Is.True);
        group.Stop();
        var ex = Assert.ThrowsAsync<AggregateException>(async () => await group.JoinAsync().WaitAsync(Bound));
        Assert.That(ex!.InnerExceptions.Single(), Is.TypeOf<InvalidDataException>());
    }

    [Test]
    public async Task DisposeAsyncReturnsAtOnceAndCompletesAfterEveryTeardownAndDisposal()
    {
        using var release = new ManualResetEventSlim();
        var tornDown = new int[2];
        var group = LoopGroup.Start(2, model, (_, _) => { }, teardown: (_, i) =>
        {
            // A teardown that takes a while (say, closing connections): the caller must not be blocked meanwhile.
            release.Wait(Bound);
            Interlocked.Increment(ref tornDown[i]);
        });
        var disposal = group.DisposeAsync();
        Assert.That(disposal.IsCompleted, Is.False, "DisposeAsync returned while the teardowns still run: no thread was blocked");
        Assert.That(group.IsStopping, Is.True);
        release.Set();
        await disposal.AsTask().WaitAsync(Bound);
        Assert.That(tornDown, Is.EqualTo(new[] { 1, 1 }));
        Assert.That(group.Loops.All(l => l.IsDisposed), Is.True);
        await group.DisposeAsync();                              // idempotent
        group.Dispose();                                         // and the synchronous form after it
    }

    [Test]
    public async Task AwaitUsingStopsTheGroup()
    {
        LoopGroup captured;
        await using (var group = LoopGroup.Start(2, model, (_, _) => { }))
        {
            captured = group;
            Assert.That(group.Loops.All(l => l.IsRunning), Is.True);
        }
        Assert.That(captured.Loops.All(l => l.IsDisposed), Is.True);
        Assert.That(captured.Join(TimeSpan.Zero), Is.True);
    }

    [Test]
    public async Task DisposeAsyncFromALoopOfTheGroupDoesNotWaitForItself()
    {
        var group = LoopGroup.Start(2, model, (_, _) => { });
        var fromLoop = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        group.Loops[0].Post(_ => fromLoop.SetResult(group.DisposeAsync().AsTask()));
        var disposal = await fromLoop.Task.WaitAsync(Bound);
        await disposal.WaitAsync(Bound);                         // loop 1 ended; loop 0 ends once its callback returned
        Assert.That(group.Loops[1].IsDisposed, Is.True);
        Assert.That(await Task.Run(() => group.Join(Bound)), Is.True);
        Assert.That(group.Loops[0].IsDisposed, Is.True);
    }
}
