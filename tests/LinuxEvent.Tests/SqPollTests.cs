using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// The opt-in SQPOLL mode (ProactorOptions.SubmissionQueuePolling) on the real ring: the ring is set up with it, work
/// flows, and a LoopFd closed right after a request was queued does not leave that request to a reused fd number (the
/// kernel thread has issued it before the close). The async, LoopFd and deadline contracts also run on it
/// (UringTiers.SqPoll).
/// </summary>
public class SqPollTests : FdCheckedTest
{
    private const uint IORING_SETUP_SQPOLL = 1u << 1, IORING_SETUP_DEFER_TASKRUN = 1u << 13;

    [Test]
    public void TheRingUsesAKernelSubmissionThreadAndCarriesTraffic()
    {
        using var loop = (ProactorLoop)UringTiers.SqPoll.Create();
        Assert.That(loop.Capabilities!.SetupFlags & IORING_SETUP_SQPOLL, Is.Not.Zero, loop.Capabilities.ToString());
        Assert.That(loop.Capabilities.SetupFlags & IORING_SETUP_DEFER_TASKRUN, Is.Zero, "DEFER_TASKRUN is refused with SQPOLL");
        var (a, b) = Posix.SocketPair();
        try
        {
            int rounds = 0;
            loop.Run(async () =>
            {
                var buf = new byte[8];
                for (int i = 0; i < 200; i++)
                {
                    var receive = loop.ReceiveAsync(a, buf);
                    Posix.Write(b, Encoding.ASCII.GetBytes("x"));
                    if (await receive != 1) throw new InvalidOperationException("short");
                    await loop.DelayAsync(TimeSpan.FromMilliseconds(i % 20 == 0 ? 15 : 0));   // lets the thread fall asleep sometimes
                    rounds++;
                }
            });
            Assert.That(rounds, Is.EqualTo(200));
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void BadIdleTimesAreRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Loop.CreateProactor(new ProactorOptions { SubmissionQueuePolling = true, SubmissionQueuePollIdle = TimeSpan.FromSeconds(-1) }));
        Assert.That(ex!.Message, Does.Contain("SubmissionQueuePollIdle"));
    }
}
