namespace LinuxEvent.Net.Tests;

/// <summary>
/// A loop whose streams are all idle, reading, allocates nothing per iteration, on every backend of both models: the
/// armed receives (watchers, multishot or single receives) cost no allocation while nothing arrives.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class IdleLoopAllocationTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void IdleIterationsWithManyReadingStreamsAllocateNothing()
    {
        const int N = 200, Iterations = 20_000;
        using var loop = backend.Create();
        var pairs = new (int A, int B)[N];
        var streams = new LoopStream[N];
        int replies = 0;
        for (int i = 0; i < N; i++)
        {
            pairs[i] = Posix.SocketPair();
            streams[i] = new LoopStream(loop, pairs[i].A, new LoopStreamOptions { Codec = new LineCodec() });
            streams[i].OnMessage = (st, m) => { st.WriteMessage(m); replies++; };
            streams[i].Start();
        }
        if (!backend.IsFake)
        {
            // One exchange each first, so the streams are idle after real traffic (buffers returned, sends pooled).
            foreach (var (_, b) in pairs) Posix.Write(b, "hi\n"u8);
            loop.RunUntil(() => replies == N && streams.All(s => s.QueuedBytes == 0));
        }
        for (int i = 0; i < 100; i++) loop.RunOnce(TimeSpan.Zero);     // JIT, lazily created loop state

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++) loop.RunOnce(TimeSpan.Zero);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, $"{allocated} bytes over {Iterations} idle iterations with {N} reading streams");

        foreach (var s in streams) s.Close();
        loop.RunUntil(() => streams.All(s => s.Completion.IsCompleted));
        Streams.Settle(loop);
        foreach (var (_, b) in pairs) Posix.Close(b);
    }
}
