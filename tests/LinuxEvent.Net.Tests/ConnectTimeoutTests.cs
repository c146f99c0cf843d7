using System.Net;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// The connect timeout on the fakes' virtual clock: exact, and never late. On the fake reactor the connect syscall is
/// real and only its writability is scripted; on the fake proactor the connect operation is scripted.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class ConnectTimeoutTests(Backend backend) : FdCheckedTest
{
    /// <summary>
    /// Scripts the kernel's answer "connected" for the one pending connect: the fake proactor completes the Connect
    /// operation; the fake reactor reports the socket that waits for writability (it connects to a real listener, so
    /// SO_ERROR is 0). The connecting socket is the Connector's own, so it is found by its write interest.
    /// </summary>
    private static void CompleteTheConnect(Loop loop)
    {
        switch (loop)
        {
            case ProactorLoop { Fake: { } completions }:
                completions.Complete(completions.Pending.Single(o => o.Kind == OperationKind.Connect), 0);
                break;
            case ReactorLoop { Fake: { } readiness }:
                var waiting = Fds.Numbers().Where(fd => readiness.TryGetInterest(fd, out var i) && i.HasFlag(WatchOptions.Write)).ToList();
                Assert.That(waiting, Has.Count.EqualTo(1), "one socket waits for its connect");
                readiness.Inject(waiting[0], Readiness.Writable);
                break;
        }
    }

    [Test]
    public void ConnectTimeoutIsEtimedoutOnTheVirtualClockAndLeavesNothing()
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
        Net.Settle(loop);
        Posix.Close(lfd);
    }

    [Test]
    public void NoLateTimeoutAfterSuccess()
    {
        using var loop = backend.Create();
        int lfd = Posix.CreateTcpListener(Net.AnyLoopbackPort);
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(lfd)!;
        int calls = 0;
        ConnectResult? result = null;
        Connector.Connect(loop, ep, r => { calls++; result = r; Posix.Close(r.Connection.Fd); }, new ConnectOptions { Timeout = TimeSpan.FromSeconds(1) });
        loop.RunFakeUntilIdle();
        CompleteTheConnect(loop);
        loop.RunFakeUntilIdle();
        Assert.That(result?.Succeeded, Is.True, result?.Error?.Message);
        loop.AdvanceVirtualClock(TimeSpan.FromSeconds(5));
        loop.RunFakeUntilIdle();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(loop.PendingTimerCount, Is.Zero);
        Net.Settle(loop);
        Posix.Close(lfd);
    }
}
