using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Tests;

/// <summary>
/// Signals shared: with signals already pending, with several loops, with cancellation while pending, and with the
/// runtime's other <see cref="PosixSignalRegistration"/> handlers (the Generic Host's SIGTERM is one).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
[NonParallelizable]
public class SignalSharingTests(Backend backend) : FdCheckedTest
{
    private const int SIGUSR1 = 10, SIGUSR2 = 12;

    [Test]
    public void ASignalAlreadyPendingBeforeTheSubscriptionIsDeliveredAfterIt()
    {
        using var loop = backend.Create();
        bool wasBlocked = SignalMask.SetBlocked(SIGUSR2, true);
        int got = 0;
        try
        {
            // Pending on this thread (blocked here, thread-directed) before anyone subscribes.
            SignalMask.RaiseOnThisThread(SIGUSR2);
            using var sub = loop.Signal(SIGUSR2, (_, e) => got += e.Count);
            loop.RunUntil(() => got > 0, TimeSpan.FromSeconds(10));
            Assert.That(got, Is.EqualTo(1));
        }
        finally
        {
            if (!wasBlocked) SignalMask.SetBlocked(SIGUSR2, false);
        }
    }

    [Test]
    public void SeveralLoopsSubscribedToOneSignalEachGetIt()
    {
        using var a = backend.Create();
        using var b = backend.Create();
        int gotA = 0, gotB = 0;
        using var subA = a.Signal(SIGUSR1, (_, _) => gotA++);
        using var subB = b.Signal(SIGUSR1, (_, _) => gotB++);
        // One signal blocked on this thread reaches only a signalfd (a's): it must be fanned out to b as well.
        bool wasBlocked = SignalMask.SetBlocked(SIGUSR1, true);
        try
        {
            SignalMask.RaiseOnThisThread(SIGUSR1);
            a.RunUntil(() => gotA > 0, TimeSpan.FromSeconds(10));
            b.RunUntil(() => gotB > 0, TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (!wasBlocked) SignalMask.SetBlocked(SIGUSR1, false);
        }
        // And one the runtime delivers reaches both too.
        Posix.Kill(Environment.ProcessId, SIGUSR1);
        a.RunUntil(() => gotA > 1, TimeSpan.FromSeconds(10));
        b.RunUntil(() => gotB > 1, TimeSpan.FromSeconds(10));
        Assert.That((gotA, gotB), Is.EqualTo((2, 2)));
    }

    [Test]
    public void ASubscriptionCancelledWhileItsSignalIsPendingGetsNothingAfterwards()
    {
        using var loop = backend.Create();
        int gotCancelled = 0, gotOther = 0;
        var cancelled = loop.Signal(SIGUSR1, (_, _) => gotCancelled++);
        using var other = loop.Signal(SIGUSR1, (_, _) => gotOther++);
        Posix.Kill(Environment.ProcessId, SIGUSR1);
        // Wait until the arrival is counted (pending dispatch), without running the loop's dispatch.
        var wall = System.Diagnostics.Stopwatch.StartNew();
        while (loop.PendingSignalCount(SIGUSR1) == 0 && wall.Elapsed < TimeSpan.FromSeconds(10)) Thread.Yield();
        Assert.That(cancelled.Cancel(), Is.True);
        loop.RunUntil(() => gotOther > 0, TimeSpan.FromSeconds(10));
        for (int i = 0; i < 3; i++) loop.RunOnce(TimeSpan.Zero);
        Assert.That(gotCancelled, Is.Zero, "cancelled while pending: nothing afterwards");
        Assert.That(gotOther, Is.EqualTo(1));
    }

    [Test]
    public void EveryOtherRuntimeHandlerSeesEverySignalTooAndTheLoopDoesToo()
    {
        // The Generic Host registers SIGTERM this way; a SIGUSR2 registration stands in for it here (SIGTERM would end
        // the test host if a handler ever missed it). The loop reads its signalfd whenever the signal is pending, which
        // is exactly when it could steal it from the runtime's handlers: every one of 200 must reach both.
        using var loop = backend.Create();
        int loopGot = 0, runtimeGot = 0;
        using var reg = PosixSignalRegistration.Create((PosixSignal)SIGUSR2, ctx => { Interlocked.Increment(ref runtimeGot); ctx.Cancel = true; });
        using var sub = loop.Signal(SIGUSR2, (_, e) => loopGot += e.Count);
        int missedByRuntime = 0;
        for (int i = 1; i <= 200; i++)
        {
            Posix.Kill(Environment.ProcessId, SIGUSR2);
            loop.RunUntil(() => loopGot >= i, TimeSpan.FromSeconds(10));
            var wall = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref runtimeGot) < i && wall.Elapsed < TimeSpan.FromSeconds(2)) Thread.Yield();
            if (Volatile.Read(ref runtimeGot) < i) { missedByRuntime++; Interlocked.Exchange(ref runtimeGot, i); }
        }
        Assert.That(missedByRuntime, Is.Zero, "the loop's signalfd took signals the runtime's other handlers never saw");
        Assert.That(loopGot, Is.EqualTo(200));
    }
}
