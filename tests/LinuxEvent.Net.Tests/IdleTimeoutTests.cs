namespace LinuxEvent.Net.Tests;

/// <summary>
/// <see cref="LoopStreamOptions.IdleTimeout"/>: a stream that receives nothing for the timeout closes with
/// <see cref="CloseReason.Timeout"/>; input pushes it back; pausing stops it. On every backend: the fakes run on their
/// virtual clock (the loop jumps to the timer's deadline, nothing waits), the real ones on real time with a short
/// timeout. The peer "sends" from loop timers, so the same script runs everywhere.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class IdleTimeoutTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(100);

    private static double Ms(long ns) => ns / 1e6;

    [Test]
    public void NothingReceivedForTheTimeoutClosesTheStreamAndInputPushesItBack()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var s = new LoopStream(loop, a, new LoopStreamOptions { IdleTimeout = Timeout, FdKind = StreamFdKind.Socket });
            int chunks = 0;
            long lastInput = 0, closedAt = 0;
            CloseReason? reason = null;
            s.OnData = (_, _) => { chunks++; lastInput = loop.NowNanoseconds; };
            s.OnClose = (_, r) => { reason = r; closedAt = loop.NowNanoseconds; };
            long start = loop.NowNanoseconds;
            s.Start();
            // Three inputs, each well within the timeout of the one before: together they span more than the timeout.
            for (int i = 1; i <= 3; i++) loop.After(Gap * 2 * i, _ => ScriptedPeer.Sends(loop, a, b, "x"u8));
            loop.RunUntil(() => reason is not null, TimeSpan.FromSeconds(10));

            Assert.That(chunks, Is.EqualTo(3), "the stream stayed open while input kept coming");
            Assert.That(reason, Is.EqualTo(CloseReason.Timeout));
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.Timeout));
            Assert.That(s.Error, Is.InstanceOf<TimeoutException>().With.Message.Contains("IdleTimeout"));
            Assert.That(Ms(closedAt - start), Is.GreaterThanOrEqualTo((Gap * 6 + Timeout).TotalMilliseconds - 1), "not before the last input's timeout");
            Assert.That(Ms(closedAt - lastInput), Is.GreaterThanOrEqualTo(Timeout.TotalMilliseconds - 1));
            if (backend.IsFake) Assert.That(closedAt - lastInput, Is.EqualTo(Timeout.Ticks * 100), "exact on the virtual clock");
            Assert.That(loop.PendingTimerCount, Is.Zero, "the idle timer is gone with the stream");
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void APendingReadFailsWithTheTimeoutAndPausingStopsTheClock()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var (c, d) = Posix.SocketPair();
        try
        {
            var options = new LoopStreamOptions { IdleTimeout = Timeout, FdKind = StreamFdKind.Socket };
            var reader = new LoopStream(loop, a, options);
            var paused = new LoopStream(loop, c, options);
            paused.OnData = (_, _) => { };
            paused.Start();
            paused.PauseRead();                                  // wants no input: no timeout
            Task<int>? read = null;
            loop.Post(_ => read = reader.ReadAsync(new byte[16]).AsTask());
            loop.RunUntil(() => read is { IsCompleted: true }, TimeSpan.FromSeconds(10));

            Assert.That(read!.IsFaulted, Is.True);
            Assert.That(read.Exception!.InnerException, Is.InstanceOf<TimeoutException>());
            Assert.That(reader.CloseReason, Is.EqualTo(CloseReason.Timeout));
            Assert.That(paused.IsClosed, Is.False, "a paused stream does not time out");

            // Resumed, it has the whole timeout again and then closes.
            long resumed = loop.NowNanoseconds;
            paused.ResumeRead();
            loop.RunUntil(() => paused.IsClosed, TimeSpan.FromSeconds(10));
            Assert.That(paused.CloseReason, Is.EqualTo(CloseReason.Timeout));
            Assert.That(Ms(loop.NowNanoseconds - resumed), Is.GreaterThanOrEqualTo(Timeout.TotalMilliseconds - 1));
        }
        finally
        {
            Posix.Close(b);
            Posix.Close(d);
        }
    }

    [Test]
    public void NoTimeoutByDefaultAndABadTimeoutIsRefused()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            Assert.That(LoopStreamOptions.Default.IdleTimeout, Is.EqualTo(System.Threading.Timeout.InfiniteTimeSpan));
            Assert.That(() => new LoopStream(loop, a, new LoopStreamOptions { IdleTimeout = TimeSpan.Zero }),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("IdleTimeout"));
            var s = new LoopStream(loop, a, new LoopStreamOptions { FdKind = StreamFdKind.Socket });
            s.OnData = (_, _) => { };
            s.Start();
            Assert.That(loop.PendingTimerCount, Is.Zero, "no timer without the option");
            s.Close();
            loop.RunOnce(TimeSpan.Zero);
        }
        finally { Posix.Close(b); }
    }
}
