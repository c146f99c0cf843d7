using System.Text;
using LinuxEvent.Files;

namespace LinuxEvent.Tests;

/// <summary>
/// Linked chains in the proactor's callback API (<see cref="ProactorLoop.Link"/>, IOSQE_IO_LINK), on io_uring and on
/// the fake, which scripts the steps in order. A real file carries the steps on both: on the fake the test plays the
/// kernel for each step it is allowed to settle.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class OperationChainTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private ProactorLoop Create() => (ProactorLoop)backend.Create();

    /// <summary>On the fake: settles <paramref name="step"/> as the kernel would have (no-op on io_uring).</summary>
    private static void Script(ProactorLoop loop, Operation step, int result)
    {
        if (loop.Fake is not { } fake) return;
        if (result < 0) fake.Fail(step, -result);
        else fake.Complete(step, result);
    }

    [Test]
    public void WriteThenFsyncRunInOrderAndBothComplete()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("chain", []);
        var order = new List<string>();
        var data = Encoding.ASCII.GetBytes("durable");
        var chain = loop.Link()
            .Write(fd, data, 0, op => order.Add("write " + op.State))
            .Fsync(fd, op => order.Add("fsync " + op.State))
            .Submit();
        Assert.That(chain.IsSubmitted, Is.True);
        Assert.That(chain.Steps, Has.Count.EqualTo(2));
        if (loop.Fake is { } fake)
        {
            Assert.That(chain.Steps[1].IsWaitingForChain, Is.True, "the fsync waits for the write");
            var ex = Assert.Throws<InvalidOperationException>(() => fake.Complete(chain.Steps[1], 0));
            Assert.That(ex!.Message, Does.Contain("settle the steps in order"));
            Posix.Write(fd, data);                               // play the kernel: the write happens
            Script(loop, chain.Steps[0], data.Length);
            Assert.That(chain.Steps[1].IsWaitingForChain, Is.False, "the write completed: the fsync has started");
            Script(loop, chain.Steps[1], 0);
        }
        loop.RunUntil(() => order.Count == 2, Bound);
        Assert.That(order, Is.EqualTo(new[] { "write Completed", "fsync Completed" }));
        Assert.That(chain.IsSettled, Is.True);
        Assert.That(chain.BrokenAt, Is.Null);
        Assert.That(chain.Steps[0].Result, Is.EqualTo(data.Length));
        Assert.That(File.ReadAllText(files.PathOf("chain")), Is.EqualTo("durable"));
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void AShortReadBreaksTheChainAndTheLaterStepsAreCancelledInOrder()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        int fd = files.CreateFile("short", new byte[100]);
        int other = files.CreateFile("untouched", []);
        var order = new List<string>();
        var chain = loop.Link()
            .Read(fd, new byte[4096], 0, op => order.Add($"read {op.State} {op.Result}"))
            .Write(other, new byte[10], 0, op => order.Add($"write {op.State}"))
            .Nop(op => order.Add($"nop {op.State}"))
            .Submit();
        Script(loop, chain.Steps[0], 100);                      // end of file: 100 of the 4096 bytes asked for
        loop.RunUntil(() => order.Count == 3, Bound);
        Assert.That(order, Is.EqualTo(new[] { "read Completed 100", "write Cancelled", "nop Cancelled" }));
        Assert.That(chain.BrokenAt, Is.SameAs(chain.Steps[0]));
        Assert.That(new FileInfo(files.PathOf("untouched")).Length, Is.Zero, "the write never ran");
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void AFailedStepBreaksTheChainWithItsErrno()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        int readOnly = files.CreateFile("ro", new byte[8], FileOpenFlags.ReadOnly);
        var order = new List<string>();
        var chain = loop.Link()
            .Write(readOnly, new byte[4], 0, op => order.Add($"write {op.State} {op.Error?.Name}"))
            .Fsync(readOnly, op => order.Add($"fsync {op.State}"))
            .Submit();
        Script(loop, chain.Steps[0], -Errno.EBADF);              // write(2) on an fd not open for writing
        loop.RunUntil(() => order.Count == 2, Bound);
        Assert.That(order, Is.EqualTo(new[] { "write Failed EBADF", "fsync Cancelled" }));
        Assert.That(chain.BrokenAt, Is.SameAs(chain.Steps[0]));
        Assert.Throws<OperationCanceledException>(() => chain.Steps[1].GetResultOrThrow());
    }

    [Test]
    public void CancellingAChainOrAWaitingStepCancelsFromTheRunningStep()
    {
        using var loop = Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            foreach (bool viaWaitingStep in new[] { false, true })
            {
                var order = new List<string>();
                var chain = loop.Link()
                    .Receive(a, new byte[8], op => order.Add($"receive {op.State}"))
                    .Send(a, new byte[] { 1 }, op => order.Add($"send {op.State}"))
                    .Submit();
                loop.RunOnce(TimeSpan.Zero);
                Assert.That(viaWaitingStep ? chain.Steps[1].Cancel() : chain.Cancel(), Is.True);
                loop.RunUntil(() => order.Count == 2, Bound);
                Assert.That(order, Is.EqualTo(new[] { "receive Cancelled", "send Cancelled" }), viaWaitingStep ? "Operation.Cancel on the waiting step" : "OperationChain.Cancel");
                Assert.That(chain.Cancel(), Is.False, "nothing left to cancel");
            }
            Assert.That(Posix.TryRead(b, new byte[8]), Is.LessThan(0), "no send ran");
            Assert.That(loop.LiveOperationCount, Is.Zero);
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void BadChainsAreRefusedAndQueueNothing()
    {
        using var loop = Create();
        Assert.Throws<InvalidOperationException>(() => loop.Link().Submit(), "no steps");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.Link().Write(-1, new byte[1], 0));
        Assert.That(ex!.Message, Does.Contain("ProactorLoop.Link().Write"));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Link().Read(0, new byte[1], -2));
        var chain = loop.Link().Nop().Nop().Submit();
        Assert.Throws<InvalidOperationException>(() => chain.Submit(), "twice");
        Assert.Throws<InvalidOperationException>(() => chain.Nop(), "a step after submission");
        loop.RunUntil(() => chain.IsSettled, Bound);
        Assert.That(chain.Steps.Select(s => s.State), Is.All.EqualTo(OperationState.Completed));

        if (loop.Fake is null)
        {
            using var small = (ProactorLoop)Loop.CreateProactor(new ProactorOptions { QueueDepth = 4 });
            var tooLong = small.Link();
            for (int i = 0; i < 9; i++) tooLong.Nop();
            var full = Assert.Throws<ArgumentException>(() => tooLong.Submit());
            Assert.That(full!.Message, Does.Contain("does not fit the submission queue"));
            Assert.That(small.LiveOperationCount, Is.Zero, "all or nothing");
            Assert.That(tooLong.IsSubmitted, Is.False);
        }
    }
}
