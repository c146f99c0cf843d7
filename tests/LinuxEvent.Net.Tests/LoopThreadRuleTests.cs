namespace LinuxEvent.Net.Tests;

/// <summary>
/// The loop-thread rule is one check above the seam, so both models refuse a loop-only call from another thread the
/// same way. The reactor used to accept LoopStream.Write from another thread silently (a data race that SslStream's
/// thread-pool calls hit during handshakes), while the proactor threw.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopThreadRuleTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void StreamListenerAndChannelCallsFromAnotherThreadAreRefusedWhileTheLoopRuns()
    {
        var (a, b) = Posix.SocketPair();
        try
        {
            using var loop = backend.Create();
            var stream = new LoopStream(loop, a, new LoopStreamOptions { OwnsFd = false });
            using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => Posix.Close(c.Fd));
            var refusals = new List<string>();
            bool done = false;
            loop.Post(_ =>
            {
                // The loop is running on this thread now; another thread tries its luck.
                var t = new Thread(() =>
                {
                    void Try(string what, Action call)
                    {
                        try { call(); }
                        catch (InvalidOperationException ex) when (ex.Message.Contains("loop thread")) { refusals.Add(what); }
                    }
                    Try("Write", () => stream.Write("x"u8));
                    Try("PauseRead", stream.PauseRead);
                    Try("Close", stream.Close);
                    Try("Listener.Pause", listener.Pause);
                    Try("Listener.Dispose", listener.Dispose);
                });
                t.Start();
                t.Join();
                done = true;
            });
            loop.RunUntil(() => done);
            Assert.That(refusals, Is.EqualTo(new[] { "Write", "PauseRead", "Close", "Listener.Pause", "Listener.Dispose" }));
            Assert.That(stream.IsClosed, Is.False);
            Assert.That(stream.BytesSent, Is.Zero, "nothing was written from the other thread");
            stream.Close();
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }
}
