namespace LinuxEvent.Tests;

/// <summary>
/// Readiness waits exist only in the reactor model. On real fds: the fake reactor reports readiness only when a test
/// injects it, so these waits would never end there.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealReactors))]
public class ReactorWaitTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void WaitReadableAndWritableAsync()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        var log = new List<string>();
        try
        {
            loop.Run(async () =>
            {
                await loop.WaitWritableAsync(a);
                log.Add("writable");
                var readable = loop.WaitReadableAsync(b).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(2));
                Assert.That(readable.IsCompleted, Is.False, "nothing to read yet");
                Posix.Write(a, "x"u8);
                await readable;
                log.Add("readable");
                using var cts = new CancellationTokenSource();
                var never = loop.WaitReadableAsync(a, cts.Token).AsTask();
                cts.Cancel();
                try { await never; } catch (OperationCanceledException) { log.Add("cancelled"); }
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        Assert.That(log, Is.EqualTo(new[] { "writable", "readable", "cancelled" }));
    }

    [Test]
    public void ASecondPendingReadOnTheSameFdIsRefused()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        Exception? refused = null;
        try
        {
            loop.Run(async () =>
            {
                using var cts = new CancellationTokenSource();
                var first = loop.ReceiveAsync(a, new byte[4], cts.Token).AsTask();
                try { await loop.ReceiveAsync(a, new byte[4]); } catch (InvalidOperationException e) { refused = e; }
                cts.Cancel();
                try { await first; } catch (OperationCanceledException) { }
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        Assert.That(refused!.Message, Does.Contain("already pending"));
    }
}
