using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// Per-operation deadlines (the TimeSpan-timeout overloads), written once and run on every backend: the reactor
/// enforces them with loop timers, the proactor with io_uring linked timeouts (the fakes: the virtual clock). Socket
/// traffic goes through <see cref="Wire"/>, datagrams through <see cref="DatagramWire"/>.
/// </summary>
[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.AllWithRegisteredFiles))]
public class DeadlineContractTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    private static T Completed<T>(Loop loop, ValueTask<T> task)
    {
        loop.RunUntil(() => task.IsCompleted, Bound);
        return task.Result;
    }

    private static Exception Faulted<T>(Loop loop, ValueTask<T> task)
    {
        var t = task.AsTask();
        loop.RunUntil(() => t.IsCompleted, Bound);
        Assert.That(t.IsCompleted && !t.IsCompletedSuccessfully, Is.True, "the call failed");
        return t.Exception?.InnerException ?? new OperationCanceledException();
    }

    /// <summary>Lets loop time pass (virtual on the fakes) without waiting for any event.</summary>
    private static void LetTimePass(Loop loop, TimeSpan span)
    {
        var delay = loop.DelayAsync(span);
        loop.RunUntil(() => delay.IsCompleted, Bound);
    }

    private static void AssertNoLiveOperations(Loop loop)
    {
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero, "LiveOperationCount");
    }

    [Test]
    public void AReceiveThatCompletesBeforeItsDeadlineReturnsItsBytesAndTheDeadlineHasNoLaterEffect()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        var buf = new byte[16];
        var receive = loop.ReceiveAsync(wire.Local, buf, Short);
        loop.RunOnce(TimeSpan.Zero);
        wire.Deliver("hi");
        Assert.That(Completed(loop, receive), Is.EqualTo(2));
        Assert.That(loop.PendingTimerCount, Is.Zero, "the deadline's timer was disarmed");

        // A later receive without a deadline on the same fd outlives the first one's deadline untouched.
        var next = loop.ReceiveAsync(wire.Local, buf);
        LetTimePass(loop, Short * 3);
        Assert.That(next.IsCompleted, Is.False, "nothing expired into the next use of the pooled awaitable");
        wire.Deliver("again");
        Assert.That(Completed(loop, next), Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(buf, 0, 5), Is.EqualTo("again"));
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void AnExpiredDeadlineThrowsTimeoutExceptionNamingTheCallAndLeavesTheFdUsable()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        var buf = new byte[16];
        long start = loop.NowNanoseconds;
        var ex = Faulted(loop, loop.ReceiveAsync(wire.Local, buf, Short));
        Assert.That(ex, Is.InstanceOf<TimeoutException>().And.InstanceOf<LinuxEventTimeoutException>());
        var timeout = (LinuxEventTimeoutException)ex;
        Assert.That(timeout.Call, Is.EqualTo($"recv(fd={wire.Local})"));
        Assert.That(timeout.Timeout, Is.EqualTo(Short));
        Assert.That(timeout.Errno, Is.EqualTo(Errno.ETIMEDOUT));
        Assert.That(timeout.Message, Does.Contain("timed out").And.Contain("50 ms"));
        Assert.That(loop.NowNanoseconds - start, Is.GreaterThanOrEqualTo(Short.Ticks * 100), "not before the deadline");
        AssertNoLiveOperations(loop);

        // Nothing was consumed, the read side is free: the next receive gets the next bytes.
        var next = loop.ReceiveAsync(wire.Local, buf);
        wire.Deliver("later");
        Assert.That(Completed(loop, next), Is.EqualTo(5));
        Assert.That(Encoding.ASCII.GetString(buf, 0, 5), Is.EqualTo("later"));
    }

    [Test]
    public void ATokenCancelledBeforeTheDeadlineIsACancellationNotATimeout()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var cts = new CancellationTokenSource();
        var receive = loop.ReceiveAsync(wire.Local, new byte[8], TimeSpan.FromSeconds(5), cts.Token).AsTask();
        loop.RunOnce(TimeSpan.Zero);
        cts.Cancel();
        loop.RunUntil(() => receive.IsCompleted, Bound);
        Assert.That(receive.IsCanceled, Is.True, "OperationCanceledException, not TimeoutException");
        Assert.That(loop.PendingTimerCount, Is.Zero, "the deadline's timer was disarmed");
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void ADeadlineBeforeTheTokenIsATimeout()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var cts = new CancellationTokenSource();
        var ex = Faulted(loop, loop.ReceiveAsync(wire.Local, new byte[8], Short, cts.Token));
        Assert.That(ex, Is.InstanceOf<LinuxEventTimeoutException>());
        cts.Cancel();                       // too late: the call already settled, once
        loop.RunOnce(TimeSpan.Zero);
    }

    [Test]
    public void AnInfiniteTimeoutIsNoDeadline()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        var buf = new byte[8];
        var receive = loop.ReceiveAsync(wire.Local, buf, Timeout.InfiniteTimeSpan);
        Assert.That(loop.PendingTimerCount, Is.Zero, "no timer armed");
        LetTimePass(loop, Short);
        Assert.That(receive.IsCompleted, Is.False);
        wire.Deliver("x");
        Assert.That(Completed(loop, receive), Is.EqualTo(1));
    }

    [Test]
    public void ANegativeTimeoutIsRefusedAndStartsNothing()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.ReceiveAsync(wire.Local, new byte[8], TimeSpan.FromMilliseconds(-5)));
        Assert.That(ex!.ParamName, Is.EqualTo("timeout"));
        Assert.That(ex.Message, Does.Contain("Loop.ReceiveAsync").And.Contain("negative"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.WriteAtAsync(wire.Local, new byte[1], 0, TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = loop.SendToAsync(wire.Local, new byte[1],
            new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9), TimeSpan.FromSeconds(-1)));
        AssertNoLiveOperations(loop);
        Assert.That(loop.PendingTimerCount, Is.Zero);

        // The read side was never taken.
        var receive = loop.ReceiveAsync(wire.Local, new byte[8]);
        wire.Deliver("ok");
        Assert.That(Completed(loop, receive), Is.EqualTo(2));
    }

    [Test]
    public void AClosedFdFailsWithItsErrnoNotATimeoutAndDisarmsTheDeadline()
    {
        using var loop = backend.Create();
        int closed = Enumerable.Range(15_000, 1000).First(n => !Posix.IsOpen(n));
        var receive = loop.ReceiveAsync(closed, new byte[8], TimeSpan.FromSeconds(5));
        if (loop is ProactorLoop { Fake: { } fake })       // the fake reaches no kernel: script its answer
        {
            loop.RunOnce(TimeSpan.Zero);
            fake.Fail(fake.Pending.Single(), Errno.EBADF);
        }
        var ex = Faulted(loop, receive);
        Assert.That(ex, Is.Not.InstanceOf<TimeoutException>());
        Assert.That(((ILinuxEventError)ex).Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(((ILinuxEventError)ex).Call, Is.EqualTo($"recv(fd={closed})"));
        Assert.That(loop.PendingTimerCount, Is.Zero, "no deadline left armed");
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void AReceiveFromWithADeadlineTimesOutAndTheSocketStillReceives()
    {
        using var loop = backend.Create();
        using var wire = new DatagramWire(loop);
        var buf = new byte[32];
        var ex = Faulted(loop, loop.ReceiveFromAsync(wire.Server, buf, Short));
        Assert.That(ex, Is.InstanceOf<LinuxEventTimeoutException>());
        Assert.That(((LinuxEventTimeoutException)ex).Call, Is.EqualTo($"recvmsg(fd={wire.Server})"));

        var receive = loop.ReceiveFromAsync(wire.Server, buf, TimeSpan.FromSeconds(5));
        wire.Deliver(Encoding.ASCII.GetBytes("dns"));
        var r = Completed(loop, receive);
        Assert.That(r.ReceivedBytes, Is.EqualTo(3));
        Assert.That(r.RemoteEndPoint, Is.EqualTo(wire.ClientEndPoint));
        Assert.That(loop.PendingTimerCount, Is.Zero);
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void ARegisteredFdTakesDeadlinesToo()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var fd = loop.Register(wire.Local);
        var ex = Faulted(loop, fd.ReceiveAsync(new byte[8], Short));
        Assert.That(ex, Is.InstanceOf<LinuxEventTimeoutException>());
        Assert.That(((LinuxEventTimeoutException)ex).Call, Is.EqualTo($"recv(fd={wire.Local})"));
        AssertNoLiveOperations(loop);

        var buf = new byte[8];
        var receive = fd.ReceiveAsync(buf, TimeSpan.FromSeconds(5));
        loop.RunOnce(TimeSpan.Zero);
        wire.Deliver("reg");
        Assert.That(Completed(loop, receive), Is.EqualTo(3));
        Assert.That(loop.PendingTimerCount, Is.Zero);
    }
}
