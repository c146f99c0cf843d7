using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Deterministic listener/connector behaviour on the fake backends (virtual time, scripted completions).</summary>
public class FakeNetTests : FdCheckedTest
{
    [Test]
    public void ConnectTimeoutIsEtimedoutOnTheVirtualClockAndLeavesNothing([ValueSource(typeof(Backends), nameof(Backends.Fakes))] Backend backend)
    {
        using var loop = backend.Create();
        // A real listener that never accepts: on the fake reactor the connect stays "in progress" because no
        // writability is injected; on the fake proactor the connect operation simply stays pending.
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(lfd)!;
        ConnectResult? r = null;
        Connector.Connect(loop, ep, x => r = x, new ConnectOptions { Timeout = TimeSpan.FromSeconds(3) });
        loop.RunUntil(() => r is not null, TimeSpan.FromSeconds(5));
        Assert.That(r!.Value.Error!.Errno, Is.EqualTo(110));
        Assert.That(r.Value.Error.Message, Does.Contain("3000 ms"));
        Assert.That(loop.PendingTimerCount, Is.Zero);
        if (loop is ProactorLoop p) { loop.RunUntil(() => p.LiveOperationCount == 0); }
        if (loop is ReactorLoop rl) Assert.That(rl.WatcherCount, Is.Zero);
        Posix.Close(lfd);
    }

    [Test]
    public void NoLateTimeoutAfterSuccess()
    {
        using var loop = Backends.FakeProactors.Single().Create();
        var p = (ProactorLoop)loop;
        int calls = 0;
        Connector.Connect(loop, Net.AnyLoopbackPort, r => { calls++; Posix.Close(r.Connection.Fd); }, new ConnectOptions { Timeout = TimeSpan.FromSeconds(1) });
        p.Fake!.RunUntilIdle();
        var op = p.Fake.Pending.Single(o => o.Kind == OperationKind.Connect);
        p.Fake.Complete(op, 0);
        p.Fake.RunUntilIdle();
        p.Fake.Advance(TimeSpan.FromSeconds(5));
        p.Fake.RunUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }

    [Test]
    public void EmfileOnTheProactorIsReportedAndBackedOffByATimerNotASpin()
    {
        using var loop = Backends.FakeProactors.Single().Create();
        var p = (ProactorLoop)loop;
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var errors = new List<LinuxEventException>();
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
        using var loop = Backends.FakeProactors.Single().Create();
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
        Assert.That(perIteration.Max(), Is.LessThanOrEqualTo(3 * 2));
        Assert.That(perIteration.Count(n => n > 0), Is.GreaterThan(1));
        listener.Dispose();
        p.Fake.RunUntilIdle();
    }
}
