using System.Diagnostics;

namespace LinuxEvent.FileBench;

/// <summary>
/// The loop models: <c>depth</c> async lanes on one loop thread, each awaiting <see cref="Loop.ReadAtAsync(int, Memory{byte}, long, CancellationToken)"/>
/// at a random block-aligned offset with its own buffer from an <see cref="AlignedBufferPool"/>. The same code runs on
/// the proactor (native IORING_OP_READ, or READ_FIXED with a registered pool) and the reactor (its worker pool, plus the page-cache fast path).
/// </summary>
internal static class LoopEngine
{
    public static Result Run(Loop loop, string name, Options o, int fd, bool registerBuffers = false)
    {
        using var pool = new AlignedBufferPool(o.BlockSize, o.Depth);
        if (registerBuffers) ((ProactorLoop)loop).RegisterFileBuffers(pool);      // this thread runs the loop below
        var owners = Enumerable.Range(0, o.Depth).Select(_ => pool.Rent()).ToArray();
        long blocks = o.Size / o.BlockSize;
        long completed = 0;
        bool stop = false;
        Result? result = null;

        async Task Lane(int lane)
        {
            var buffer = owners[lane].Memory;
            ulong x = 0x9E3779B97F4A7C15UL * (ulong)(lane + 1);
            while (!stop)
            {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;                 // xorshift64
                long offset = (long)(x % (ulong)blocks) * o.BlockSize;
                int n = await loop.ReadAtAsync(fd, buffer, offset);
                if (n != o.BlockSize) throw new InvalidOperationException($"short read: {n} at {offset}");
                completed++;
            }
        }

        loop.Run(async () =>
        {
            var lanes = Enumerable.Range(0, o.Depth).Select(Lane).ToArray();
            await loop.DelayAsync(TimeSpan.FromSeconds(o.Warmup));
            long startCount = completed;
            double startCpu = CpuClock.Seconds();
            var clock = Stopwatch.StartNew();
            await loop.DelayAsync(TimeSpan.FromSeconds(o.Seconds));
            long ios = completed - startCount;
            double seconds = clock.Elapsed.TotalSeconds;
            double cpu = CpuClock.Seconds() - startCpu;
            stop = true;
            await Task.WhenAll(lanes);
            result = new Result(name, ios, seconds, cpu);
        });
        foreach (var owner in owners) owner.Dispose();
        return result!;
    }
}
