using System.Net;

namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.Models))]
public class LoopGroupTests(LoopModel model) : FdCheckedTest
{
    [Test]
    public void LoopsShareAPortWithReusePortAndEachAcceptsOnItsOwnThread()
    {
        int port = 0;
        // Loop 0 binds first with SO_REUSEPORT on an ephemeral port; loop 1 joins the same port.
        using var portKnown = new ManualResetEventSlim();
        var listeners = new int[2];
        var acceptedBy = new int[2];
        var threadIds = new int[2];
        int total = 0;
        using var allAccepted = new ManualResetEventSlim();
        using var group = LoopGroup.Start(2, model, (loop, i) =>
        {
            threadIds[i] = Environment.CurrentManagedThreadId;
            if (i == 1) portKnown.Wait();
            int fd = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, port), reusePort: true);
            if (i == 0) { port = ((IPEndPoint)Posix.GetLocalEndPoint(fd)!).Port; portKnown.Set(); }
            listeners[i] = fd;
            loop.Spawn(async () =>
            {
                while (true)
                {
                    int c;
                    try { c = await loop.AcceptAsync(fd); }
                    catch (Exception) { return; }      // cancelled by teardown
                    Interlocked.Increment(ref acceptedBy[i]);
                    Posix.Close(c);
                    if (Interlocked.Increment(ref total) == 64) allAccepted.Set();
                }
            });
        }, teardown: (_, i) => Posix.Close(listeners[i]));
        Assert.That(group.Count, Is.EqualTo(2));
        Assert.That(threadIds[0], Is.Not.EqualTo(threadIds[1]));

        // Many short connections from distinct source ports: the kernel's SO_REUSEPORT hash spreads them.
        var clients = new List<int>();
        for (int k = 0; k < 64; k++) clients.Add(Posix.StartTcpConnect(new IPEndPoint(IPAddress.Loopback, port), out _));
        allAccepted.Wait(TimeSpan.FromSeconds(10));      // the loops run on their own threads; the test thread waits for them
        foreach (var c in clients) Posix.Close(c);
        Assert.That(acceptedBy[0] + acceptedBy[1], Is.EqualTo(64));
        Assert.That(acceptedBy[0], Is.GreaterThan(0), "loop 0 got a share");
        Assert.That(acceptedBy[1], Is.GreaterThan(0), "loop 1 got a share");
        group.Stop();
        Assert.That(group.Join(TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void ASetupFailureStopsTheGroupAndIsReported()
    {
        var ex = Assert.Throws<AggregateException>(() => LoopGroup.Start(2, model, (_, i) =>
        {
            if (i == 1) throw new InvalidDataException("setup of loop 1 failed");
        }));
        Assert.That(ex!.InnerExceptions.Single().Message, Is.EqualTo("setup of loop 1 failed"));
    }

    private Loop CreateFake() => model == LoopModel.Reactor
        ? Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake })
        : Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake });

    [Test]
    public void TheFactoryCreatesEachLoopOnItsOwnThread()
    {
        var created = new int[2];
        var setupOn = new int[2];
        using var group = LoopGroup.Start(2, i => { created[i] = Environment.CurrentManagedThreadId; return CreateFake(); },
            (_, i) => setupOn[i] = Environment.CurrentManagedThreadId);
        Assert.That(group.Loops.Select(l => l.BackendName), Is.All.EqualTo("fake"));
        Assert.That(group.Loops.Select(l => l.Model), Is.All.EqualTo(model));
        Assert.That(created, Is.EqualTo(setupOn), "created and set up on the same thread");
        Assert.That(created[0], Is.Not.EqualTo(created[1]));
        Assert.That(created, Does.Not.Contain(Environment.CurrentManagedThreadId));
    }

    [Test]
    public void ALoopThatDiesIsReportedAtOnceAndTheOthersKeepRunning()
    {
        var reported = new TaskCompletionSource<(int Index, Exception Error, bool Disposed)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var group = LoopGroup.Start(2, _ => Loop.Create(model), (_, _) => { },
            onLoopFailed: (g, i, ex) => reported.TrySetResult((i, ex, g.Loops[i].IsDisposed)));
        // No UnhandledException handler: the throwing callback ends loop 1's Run.
        group.Loops[1].Post(_ => throw new InvalidDataException("boom in loop 1"));
        Assert.That(reported.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the death is reported without Join");
        var (index, error, disposed) = reported.Task.Result;
        Assert.That(index, Is.EqualTo(1));
        Assert.That(error, Is.TypeOf<InvalidDataException>().With.Message.EqualTo("boom in loop 1"));
        Assert.That(disposed, Is.True, "reported after the loop was torn down and disposed");

        // Loop 0 still serves posts.
        using var ran = new ManualResetEventSlim();
        group.Loops[0].Post(_ => ran.Set());
        Assert.That(ran.Wait(TimeSpan.FromSeconds(10)), Is.True);

        group.Stop();
        var joined = Assert.Throws<AggregateException>(() => group.Join(TimeSpan.FromSeconds(10)));
        Assert.That(joined!.InnerExceptions.Single(), Is.TypeOf<InvalidDataException>());
    }

    [Test]
    public void ALoopStoppedBehindTheGroupsBackIsReported()
    {
        var reported = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var group = LoopGroup.Start(2, _ => Loop.Create(model), (_, _) => { },
            onLoopFailed: (_, i, ex) => reported.TrySetResult(ex));
        group.Loops[0].Stop();
        Assert.That(reported.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(reported.Task.Result, Is.TypeOf<InvalidOperationException>().With.Message.Contains("loop 0"));
        group.Stop();
        Assert.That(group.Join(TimeSpan.FromSeconds(10)), Is.True, "a loop stopped by Loop.Stop is not an error for Join");
    }

    [Test]
    public void StoppingTheGroupReportsNothing()
    {
        int reports = 0;
        var group = LoopGroup.Start(2, _ => Loop.Create(model), (_, _) => { }, onLoopFailed: (_, _, _) => Interlocked.Increment(ref reports));
        group.Dispose();
        Assert.That(group.IsStopping, Is.True);
        Assert.That(Volatile.Read(ref reports), Is.Zero);
        Assert.That(group.Loops.All(l => l.IsDisposed), Is.True);
    }

    [Test]
    public void ADeadLoopIsRestartedWithANewLoopThatRunsSetupAgain()
    {
        int setups = 0;
        var died = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var group = LoopGroup.Start(2, _ => Loop.Create(model), (_, i) => { if (i == 1) Interlocked.Increment(ref setups); },
            onLoopFailed: (g, i, _) =>
            {
                // From the dying loop's own thread a restart is refused (it would join itself).
                try { g.Restart(i); died.TrySetException(new AssertionException("Restart from the loop's own thread was accepted")); }
                catch (InvalidOperationException) { died.TrySetResult(i); }
            });
        Assert.Throws<InvalidOperationException>(() => group.Restart(1), "a running loop is not restarted");
        var first = group.Loops[1];
        int firstThread = 0;
        using (var seen = new ManualResetEventSlim())
        {
            first.Post(_ => { firstThread = Environment.CurrentManagedThreadId; seen.Set(); });
            Assert.That(seen.Wait(TimeSpan.FromSeconds(10)), Is.True);
        }
        first.Post(_ => throw new InvalidDataException("die"));
        Assert.That(died.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(died.Task.Result, Is.EqualTo(1));

        group.Restart(1);
        var second = group.Loops[1];
        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(first.IsDisposed, Is.True);
        Assert.That(second.IsDisposed, Is.False);
        Assert.That(Volatile.Read(ref setups), Is.EqualTo(2));
        using (var ran = new ManualResetEventSlim())
        {
            int secondThread = 0;
            second.Post(_ => { secondThread = Environment.CurrentManagedThreadId; ran.Set(); });
            Assert.That(ran.Wait(TimeSpan.FromSeconds(10)), Is.True, "the restarted loop runs");
            Assert.That(secondThread, Is.Not.EqualTo(firstThread), "on a new thread");
        }
        group.Stop();
        Assert.That(group.Join(TimeSpan.FromSeconds(10)), Is.True, "the restart cleared the reported error");
        Assert.Throws<InvalidOperationException>(() => group.Restart(1), "no restart once stopping");
    }

    [Test]
    public void ARestartWhoseSetupFailsLeavesTheSlotEndedAndCanBeRetried()
    {
        int attempts = 0;
        var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var group = LoopGroup.Start(1, _ => Loop.Create(model), (_, _) =>
        {
            int n = Interlocked.Increment(ref attempts);
            if (n == 2) throw new InvalidDataException("setup failed on restart");
        }, onLoopFailed: (_, _, _) => died.TrySetResult());
        group.Loops[0].Stop();
        Assert.That(died.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        var ex = Assert.Throws<AggregateException>(() => group.Restart(0));
        Assert.That(ex!.InnerExceptions.Single(), Is.TypeOf<InvalidDataException>());
        Assert.That(group.Loops[0].IsDisposed, Is.True, "the loop whose setup failed was disposed");
        group.Restart(0);
        Assert.That(group.Loops[0].IsDisposed, Is.False);
        Assert.That(attempts, Is.EqualTo(3));
    }
}
