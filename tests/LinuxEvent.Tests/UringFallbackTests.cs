using System.Diagnostics;
using LinuxEvent.Native;
using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// The io_uring paths of older or busy kernels, forced on this one: the setup tiers, single-shot polls (before 5.13),
/// EAGAIN/EBUSY from io_uring_enter, and the one-thread rule on a ring without SINGLE_ISSUER.
/// </summary>
[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.RealProactors))]
[NonParallelizable]
public class UringFallbackTests(Backend backend) : FdCheckedTest
{
    private const uint SingleIssuer = 1u << 12, CoopTaskrun = 1u << 8, NoSqArray = 1u << 16;

    private static UringProactorBackend Uring(ProactorLoop loop) => (UringProactorBackend)loop.Backend;

    [Test]
    public void TheRingRunsAtTheTierItWasAskedFor()
    {
        using var loop = (ProactorLoop)backend.Create();
        uint setup = loop.Capabilities!.SetupFlags;
        var ring = Uring(loop).RingForTesting;
        switch (backend.Name)
        {
            case "ProactorUringTier1":
                Assert.That(setup & NoSqArray, Is.Zero, "NO_SQARRAY");
                Assert.That(setup & SingleIssuer, Is.Not.Zero, "SINGLE_ISSUER");
                break;
            case "ProactorUringTier2":
                Assert.That(setup & (NoSqArray | SingleIssuer), Is.Zero);
                Assert.That(setup & CoopTaskrun, Is.Not.Zero, "COOP_TASKRUN");
                break;
            case "ProactorUringTier3":
                Assert.That(setup & (NoSqArray | SingleIssuer | CoopTaskrun), Is.Zero);
                break;
            case "ProactorUring5_10":
                Assert.That(setup & (NoSqArray | SingleIssuer | CoopTaskrun), Is.Zero);
                Assert.That(ring.UsesExtArg, Is.False, "waits bounded by a TIMEOUT SQE");
                Assert.That(Uring(loop).UsesMultishotPolls, Is.False, "single-shot polls");
                break;
            default:
                Assert.That(Uring(loop).UsesMultishotPolls, Is.True, "this kernel has multishot poll (5.13+)");
                break;
        }
    }

    /// <summary>
    /// An idle loop with a wake poll, a signal watch and a process watch sleeps for its whole timeout: the polls are
    /// armed once per event, not re-armed in a spin (the symptom on 5.10-5.12 of asking for multishot polls).
    /// </summary>
    [Test]
    public void AnIdleLoopWithWatchesSleepsInsteadOfSpinning()
    {
        using var loop = (ProactorLoop)backend.Create();
        using var sub = loop.Signal(12 /* SIGUSR2 */, (_, _) => { });
        using var child = Process.Start(new ProcessStartInfo("sleep", "30"))!;
        using var watch = loop.WatchProcess(child.Id, (_, _) => { });
        try
        {
            loop.RunOnce(TimeSpan.Zero);                 // arm everything
            for (int i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                int callbacks = loop.RunOnce(TimeSpan.FromMilliseconds(150));
                Assert.That(callbacks, Is.Zero);
                Assert.That(sw.Elapsed, Is.GreaterThan(TimeSpan.FromMilliseconds(120)), "the wait was not cut short by a poll completing");
            }
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Test]
    public void PostsFromAnotherThreadAreEachDeliveredWithSingleShotOrMultishotWakePolls()
    {
        using var loop = (ProactorLoop)backend.Create();
        int ran = 0;
        loop.RunOnce(TimeSpan.Zero);
        for (int round = 0; round < 20; round++)
        {
            var poster = new Thread(() => loop.Post(_ => ran++));
            poster.Start();
            int expected = round + 1;
            loop.RunUntil(() => ran == expected, TimeSpan.FromSeconds(10));
            poster.Join();
        }
        Assert.That(ran, Is.EqualTo(20));
    }

    /// <summary>
    /// The SQ fills while the kernel answers EBUSY (an old kernel with completions backlogged): the submission reaps the
    /// CQ to make room instead of spinning and throwing; the reaped completions are delivered later, in order, once
    /// each, and never inline from the submitting call.
    /// </summary>
    [Test]
    public void ABusyKernelAtSubmissionIsReapedNotSpunOn()
    {
        using var loop = (ProactorLoop)Loop.CreateProactor(new ProactorOptions
        {
            QueueDepth = 4,
            SetupTierForTesting = OptionsOf(backend).Tier,
            DisableExtArgForTesting = OptionsOf(backend).NoExtArg,
            SingleShotPollsForTesting = OptionsOf(backend).SingleShot,
        });
        var order = new List<int>();
        var ops = new List<Operation>();
        loop.RunOnce(TimeSpan.Zero);                             // enable the ring on this thread, arm the wake poll
        for (int i = 0; i < 4; i++) { int k = i; ops.Add(loop.Nop(_ => order.Add(k))); }
        loop.FlushSubmissions();                                 // their CQEs now wait in the CQ
        for (int i = 4; i < 8; i++) { int k = i; ops.Add(loop.Nop(_ => order.Add(k))); }
        var ring = Uring(loop).RingForTesting;
        long busyBefore = ring.BusyCount;
        ring.InjectEnterErrorForTesting(Errno.EBUSY, 2);
        for (int i = 8; i < 12; i++) { int k = i; ops.Add(loop.Nop(_ => order.Add(k))); }
        Assert.That(order, Is.Empty, "no callback ran inside a submission");
        Assert.That(ring.BusyCount - busyBefore, Is.EqualTo(2), "the EBUSY answers were absorbed");
        loop.RunUntil(() => ops.All(o => o.IsSettled), TimeSpan.FromSeconds(10));
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 12)), "each callback ran once, in completion order");
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void ABusyKernelAtTheWaitIsNotAnError()
    {
        using var loop = (ProactorLoop)backend.Create();
        loop.RunOnce(TimeSpan.Zero);
        Uring(loop).RingForTesting.InjectEnterErrorForTesting(Errno.EAGAIN, 3);
        bool done = false;
        loop.Nop(_ => done = true);
        Assert.DoesNotThrow(() => loop.RunOnce(TimeSpan.FromMilliseconds(20)));
        loop.RunUntil(() => done, TimeSpan.FromSeconds(10));
        Assert.That(loop.Metrics.RingBusy, Is.GreaterThan(0));
    }

    /// <summary>
    /// The loop is driven by one thread for its whole life, whatever the kernel enforces: without SINGLE_ISSUER the
    /// kernel would accept io_uring_enter from any thread, but the loop refuses it the same way.
    /// </summary>
    [Test]
    public void AnotherThreadCannotDriveTheLoopEvenWithoutSingleIssuer()
    {
        using var loop = (ProactorLoop)backend.Create();
        loop.RunOnce(TimeSpan.Zero);                     // binds the ring to this thread
        Exception? error = null;
        var other = new Thread(() =>
        {
            try { loop.RunOnce(TimeSpan.Zero); }
            catch (Exception ex) { error = ex; }
        });
        other.Start();
        other.Join();
        Assert.That(error, Is.InstanceOf<InvalidOperationException>());
        Assert.That(error!.Message, Does.Contain("belongs to managed thread " + Environment.CurrentManagedThreadId));
        Assert.DoesNotThrow(() => loop.RunOnce(TimeSpan.Zero), "the owner still drives it");
    }

    [Test]
    public void DisposalFromAnotherThreadSettlesWhatIsInFlight()
    {
        var loop = (ProactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            OperationState? state = null;
            var read = loop.Read(r, new byte[8], -1, o => state = o.State);
            loop.RunOnce(TimeSpan.Zero);
            var disposer = new Thread(loop.Dispose);
            disposer.Start();
            disposer.Join();
            Assert.That(state, Is.EqualTo(OperationState.Cancelled), "the read settled once, as Cancelled");
            Assert.That(read.IsSettled, Is.True);
        }
        finally
        {
            loop.Dispose();
            Posix.Close(r);
            Posix.Close(w);
        }
    }

    private static (int Tier, bool NoExtArg, bool SingleShot) OptionsOf(Backend b) => b.Name switch
    {
        "ProactorUringTier1" => (1, false, false),
        "ProactorUringTier2" => (2, false, false),
        "ProactorUringTier3" => (3, false, false),
        "ProactorUring5_10" => (4, true, true),
        _ => (0, false, false),
    };
}
