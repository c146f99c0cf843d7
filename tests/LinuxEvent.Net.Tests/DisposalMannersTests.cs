namespace LinuxEvent.Net.Tests;

/// <summary>using / await using on LinuxEvent.Net's components, and LoopStreamOptions as a record.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class DisposalMannersTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AwaitUsingAStreamDrainsItsQueueBeforeItCloses()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var received = new List<byte>();
        var reader = new LoopStream(loop, b) { OnData = (_, d) => received.AddRange(d.ToArray()) };
        reader.Start();
        CloseReason? reason = null;
        loop.Run(async () =>
        {
            await using (var writer = new LoopStream(loop, a))
            {
                writer.Write(new byte[200_000]);                  // more than the socket buffer takes at once
            }
            reason = CloseReason.Drained;
        });
        loop.RunUntil(() => received.Count == 200_000, TimeSpan.FromSeconds(10));
        Assert.That(reason, Is.EqualTo(CloseReason.Drained));
        reader.Close();
        loop.RunOnce(TimeSpan.Zero);
    }

    [Test]
    public void UsingAChildKillsItIfItStillRunsAndTheLoopStillReapsIt()
    {
        using var loop = backend.Create();
        ProcessExit? exit = null;
        using (var child = ChildProcess.Start(loop, new ProcessSpec("sleep", "30"), (_, e) => exit = e))
        {
            loop.RunOnce(TimeSpan.Zero);
        }
        loop.RunUntil(() => exit is not null, TimeSpan.FromSeconds(10));
        Assert.That(exit!.Value.Signaled, Is.True);
        Assert.That(exit.Value.Signal, Is.EqualTo(9));
    }

    [Test]
    public void LoopStreamOptionsCopyWithWith()
    {
        var a = new LoopStreamOptions { HighWatermark = 1 << 20, LowWatermark = 1 << 10 };
        var b = a with { OwnsFd = false };
        Assert.That(b.HighWatermark, Is.EqualTo(1 << 20));
        Assert.That(b.OwnsFd, Is.False);
        Assert.That(a.OwnsFd, Is.True);
    }
}
