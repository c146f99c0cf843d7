using LinuxEvent.Native;

namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.All))]
[NonParallelizable]
public class SignalTests(Backend backend) : FdCheckedTest
{
    private const int SIGUSR1 = 10, SIGUSR2 = 12;

    /// <summary>
    /// These tests send SIGUSR1 in bursts. A signal the kernel delivered but the runtime had not yet handed to managed
    /// code when a test cancels its subscription meets the restored disposition, which for SIGUSR1 is termination (see
    /// Loop.Signal's remarks): this guard, held for the life of the test process, makes that disposition "handled and
    /// ignored". Restoration itself is tested on SIGUSR2, which no test sends in bulk.
    /// </summary>
    private static readonly System.Runtime.InteropServices.PosixSignalRegistration s_usr1Guard =
        System.Runtime.InteropServices.PosixSignalRegistration.Create((System.Runtime.InteropServices.PosixSignal)SIGUSR1, ctx => ctx.Cancel = true);

    [OneTimeSetUp]
    public void InstallGuard() => GC.KeepAlive(s_usr1Guard);

    /// <summary>Reads a hex signal bitmask line (SigCgt, SigBlk...) from /proc status.</summary>
    private static bool StatusBit(string file, string field, int signo)
    {
        var line = File.ReadLines(file).First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        ulong mask = Convert.ToUInt64(line[(field.Length + 1)..].Trim(), 16);
        return (mask & (1UL << (signo - 1))) != 0;
    }

    [Test]
    public void ProcessDirectedSignalRunsTheCallbackOnTheLoopThreadAndDoesNotKillUs()
    {
        using var loop = backend.Create();
        var events = new List<SignalEvent>();
        int thread = 0;
        using var sub = loop.Signal(SIGUSR1, (_, e) => { events.Add(e); thread = Environment.CurrentManagedThreadId; });
        Posix.Kill(Environment.ProcessId, SIGUSR1);
        loop.RunUntil(() => events.Count > 0, TimeSpan.FromSeconds(10));
        Assert.That(events[0].Number, Is.EqualTo(SIGUSR1));
        Assert.That(events[0].Count, Is.EqualTo(1));
        Assert.That(thread, Is.EqualTo(Environment.CurrentManagedThreadId));
    }

    [Test]
    public void SignalSentByAChildProcessIsDelivered()
    {
        using var loop = backend.Create();
        int got = 0;
        ProcessExit? exit = null;
        using var sub = loop.Signal(SIGUSR1, (_, e) => got += e.Count);
        int pid = Posix.Spawn("kill", new[] { "-USR1", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        loop.WatchProcess(pid, (_, e) => exit = e);
        loop.RunUntil(() => got > 0 && exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value.ExitCode, Is.Zero);
        Assert.That(got, Is.EqualTo(1));
    }

    [Test]
    public void ArrivalsBeforeDispatchCoalesceIntoOneCallback()
    {
        using var loop = backend.Create();
        var events = new List<SignalEvent>();
        using var sub = loop.Signal(SIGUSR1, (_, e) => events.Add(e));
        int observed = 0;
        for (int i = 0; i < 3; i++)
        {
            Posix.Kill(Environment.ProcessId, SIGUSR1);
            // Wait (bounded) until the runtime's signal thread has counted this arrival, so the kernel cannot merge
            // it with the next one; the loop does not run meanwhile, so the three must coalesce.
            SpinWait.SpinUntil(() => ((Loop)loop).PendingSignalCount(SIGUSR1) > observed, TimeSpan.FromSeconds(5));
            observed = ((Loop)loop).PendingSignalCount(SIGUSR1);
        }
        Assert.That(observed, Is.EqualTo(3));
        loop.RunUntil(() => events.Count > 0, TimeSpan.FromSeconds(10));
        loop.RunOnce(TimeSpan.FromMilliseconds(1));
        Assert.That(events, Is.EqualTo(new[] { new SignalEvent(SIGUSR1, 3) }));
    }

    [Test]
    public void TwoSubscriptionsBothReceiveEveryDeliveryInSubscriptionOrder()
    {
        using var loop = backend.Create();
        var log = new List<string>();
        var first = loop.Signal(SIGUSR1, (_, e) => log.Add("first:" + e.Count));
        var second = loop.Signal(SIGUSR1, (_, e) => log.Add("second:" + e.Count));
        Posix.Kill(Environment.ProcessId, SIGUSR1);
        loop.RunUntil(() => log.Count == 2, TimeSpan.FromSeconds(10));
        Assert.That(log, Is.EqualTo(new[] { "first:1", "second:1" }));

        Assert.That(first.Cancel(), Is.True);
        Assert.That(first.Cancel(), Is.False);
        log.Clear();
        Posix.Kill(Environment.ProcessId, SIGUSR1);
        loop.RunUntil(() => log.Count == 1, TimeSpan.FromSeconds(10));
        Assert.That(log, Is.EqualTo(new[] { "second:1" }));
        second.Cancel();
    }

    [Test]
    public void CancellingTheLastSubscriptionRestoresTheDispositionAndLeavesTheMaskAlone()
    {
        bool caughtBefore = StatusBit("/proc/self/status", "SigCgt", SIGUSR2);
        bool blockedBefore = SignalMask.IsBlocked(SIGUSR2);
        using var loop = backend.Create();
        var sub = loop.Signal(SIGUSR2, (_, _) => { });
        Assert.That(StatusBit("/proc/self/status", "SigCgt", SIGUSR2), Is.True, "a handler is installed while subscribed");
        sub.Cancel();
        Assert.That(StatusBit("/proc/self/status", "SigCgt", SIGUSR2), Is.EqualTo(caughtBefore), "previous disposition restored");
        Assert.That(SignalMask.IsBlocked(SIGUSR2), Is.EqualTo(blockedBefore), "the thread's mask is untouched");
    }

    [Test]
    public void ASignalBlockedOnTheLoopThreadIsReadThroughTheSignalfd()
    {
        using var loop = backend.Create();
        int got = 0;
        using var sub = loop.Signal(SIGUSR2, (_, e) => got += e.Count);
        bool wasBlocked = SignalMask.SetBlocked(SIGUSR2, true);
        try
        {
            // Thread-directed and blocked here: no handler can run, it stays pending, and only signalfd sees it.
            SignalMask.RaiseOnThisThread(SIGUSR2);
            loop.RunUntil(() => got > 0, TimeSpan.FromSeconds(10));
            Assert.That(got, Is.EqualTo(1));
        }
        finally
        {
            if (!wasBlocked) SignalMask.SetBlocked(SIGUSR2, false);
        }
    }

    [Test]
    public void ABurstOfSignalsWhileTheLoopRunsNeverTerminatesTheProcess()
    {
        using var loop = backend.Create();
        int total = 0, callbacks = 0;
        using var sub = loop.Signal(SIGUSR1, (_, e) => { total += e.Count; callbacks++; });
        const int sent = 300;
        bool senderDone = false;
        var sender = new Thread(() =>
        {
            for (int i = 0; i < sent; i++) Posix.Kill(Environment.ProcessId, SIGUSR1);
            loop.Post(_ => senderDone = true);
        });
        loop.Post(_ => sender.Start());
        loop.RunUntil(() => senderDone && total > 0, TimeSpan.FromSeconds(20));
        sender.Join();
        // Let the last arrivals drain; standard signals merge while pending, so total <= sent.
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(5));
        Assert.That(total, Is.InRange(1, sent));
        Assert.That(callbacks, Is.InRange(1, total));
    }

    [Test]
    public void BadSignalNumbersAreRejectedAndRegisterNothing()
    {
        using var loop = backend.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Signal(0, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Signal(65, (_, _) => { }));
        var kill = Assert.Throws<ArgumentException>(() => loop.Signal(9, (_, _) => { }));
        Assert.That(kill!.Message, Does.Contain("SIGKILL"));
        Assert.Throws<ArgumentException>(() => loop.Signal(11, (_, _) => { }));
    }
}
