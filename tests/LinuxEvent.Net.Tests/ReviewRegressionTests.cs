using System.Buffers;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Regressions from the code review of the Net layer.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ReviewRegressionTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AMessageFromReadMessageAsyncSurvivesTheStreamsClose()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        string before = "", after = "";
        try
        {
            loop.Run(async () =>
            {
                var stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(), FdKind = StreamFdKind.Socket });
                Posix.Write(b, Encoding.ASCII.GetBytes("a message that must stay intact\n"));
                var message = (await stream.ReadMessageAsync())!.Value;
                before = Encoding.ASCII.GetString(message.Span);
                stream.Close();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));       // the close completes
                // Anything returned to the shared pool would come back to the next renter of that size on this thread.
                for (int i = 0; i < 8; i++) ArrayPool<byte>.Shared.Rent(64 * 1024).AsSpan().Fill(0xFF);
                after = Encoding.ASCII.GetString(message.Span);
            });
        }
        finally { Posix.Close(b); }
        Assert.That(before, Is.EqualTo("a message that must stay intact"));
        Assert.That(after, Is.EqualTo(before));
    }

    [Test]
    public void InvalidProcessOptionsAreRejectedBeforeAnythingIsSpawned()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { Timeout = TimeSpan.FromSeconds(-1) }));
        Assert.That(ex!.Message, Does.Contain("Timeout"));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { KillGracePeriod = TimeSpan.FromSeconds(-1) }));
        // No child was started: none is left for this process to reap.
        Assert.That(Directory.GetDirectories($"/proc/{Environment.ProcessId}/task").Length, Is.GreaterThan(0));
        Assert.That(File.ReadAllText($"/proc/{Environment.ProcessId}/task/{Environment.ProcessId}/children").Trim(), Is.Empty);
    }
}
