namespace LinuxEvent.Net.Tests;

/// <summary>
/// The adapters allocate nothing per call in steady state: <see cref="LoopStream.AsStream()"/> on the loop thread and
/// from another thread (marshalled), round trips through an echo peer on both real backends.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class StreamAdapterAllocationTests(Backend backend) : FdCheckedTest
{
    private const int Warmup = 2_000, Measured = 5_000;

    [Test]
    public void OnTheLoopThreadAdapterCallsAllocateNothing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var echo = StreamAdapterTests.Echo(loop, b);
        var s = stream.AsStream();
        long allocated = -1;
        loop.Run(async () =>
        {
            var message = new byte[32];
            var back = new byte[32];
            long before = 0;
            for (int i = 0; i < Warmup + Measured; i++)
            {
                if (i == Warmup) before = GC.GetAllocatedBytesForCurrentThread();
                // Inline, not a helper: every call of an async helper that suspends would allocate its own box.
                await s.WriteAsync(message);
                int got = 0;
                while (got < back.Length) got += await s.ReadAsync(back.AsMemory(got));
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.That(allocated, Is.Zero, $"{allocated} bytes over {Measured} round trips on the loop thread");
        stream.Close();
        echo.Close();
        loop.RunUntil(() => stream.Completion.IsCompleted && echo.Completion.IsCompleted);
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
    }

    [Test]
    public void MarshalledCallsFromAnotherThreadAllocateNothingPerCall()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a);
        var echo = StreamAdapterTests.Echo(loop, b);
        var s = stream.AsStream();
        var runner = new Thread(() => loop.Run()) { IsBackground = true, Name = "allocation-test loop" };
        runner.Start();
        try
        {
            // One async method for the whole run (its box is allocated once, at its first suspension).
            long total = 0;
            var client = Task.Run(async () =>
            {
                var message = new byte[32];
                var back = new byte[32];
                for (int i = 0; i < Warmup; i++)
                {
                    await s.WriteAsync(message);
                    int got = 0;
                    while (got < back.Length) got += await s.ReadAsync(back.AsMemory(got));
                }
                // Three measured windows, the least counts: another thread of the process (the test host, a previous
                // test's leftovers) may allocate during one window; a per-call allocation shows in all three.
                total = long.MaxValue;
                for (int window = 0; window < 3; window++)
                {
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    for (int i = 0; i < Measured; i++)
                    {
                        await s.WriteAsync(message);
                        int got = 0;
                        while (got < back.Length) got += await s.ReadAsync(back.AsMemory(got));
                    }
                    total = Math.Min(total, GC.GetTotalAllocatedBytes(precise: true) - before);
                }
            });
            Assert.That(client.Wait(TimeSpan.FromSeconds(60)), Is.True, "round trips finished");
            client.GetAwaiter().GetResult();
            // Whole-process bytes: the runtime's own threads (timers, the thread pool's bookkeeping) may allocate a
            // little during the window; a per-call allocation would show as >= 24 bytes per call (2-3 calls per trip).
            double perTrip = (double)total / Measured;
            TestContext.Out.WriteLine($"{backend}: {total} bytes in the process over {Measured} marshalled round trips ({perTrip:F3} B each)");
            Assert.That(perTrip, Is.LessThan(8), $"{total} bytes over {Measured} marshalled round trips ({perTrip:F2} B each)");
        }
        finally
        {
            loop.Post(l => { stream.Close(); echo.Close(); });
            loop.Post(l => l.Stop());
            runner.Join(TimeSpan.FromSeconds(10));
            loop.Dispose();
        }
    }
}
