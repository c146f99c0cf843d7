using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace LinuxEvent.FileBench;

/// <summary>
/// .NET's own answer: <c>depth</c> async lanes awaiting <see cref="RandomAccess.ReadAsync(SafeFileHandle, Memory{byte}, long, CancellationToken)"/>
/// (on Linux a blocking pread on a thread-pool thread), same offsets, same aligned buffers. The fd is opened by
/// <see cref="Posix.Open"/> (O_DIRECT, which FileOptions cannot ask for) and handed to a SafeFileHandle.
/// </summary>
internal static class RandomAccessEngine
{
    public static Result Run(Options o, int fd)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        using var pool = new AlignedBufferPool(o.BlockSize, o.Depth);
        var owners = Enumerable.Range(0, o.Depth).Select(_ => pool.Rent()).ToArray();
        long blocks = o.Size / o.BlockSize;
        long completed = 0;
        int stop = 0;

        async Task Lane(int lane)
        {
            var buffer = owners[lane].Memory;
            ulong x = 0x9E3779B97F4A7C15UL * (ulong)(lane + 1);
            while (Volatile.Read(ref stop) == 0)
            {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                long offset = (long)(x % (ulong)blocks) * o.BlockSize;
                int n = await RandomAccess.ReadAsync(handle, buffer, offset).ConfigureAwait(false);
                if (n != o.BlockSize) throw new InvalidOperationException($"short read: {n} at {offset}");
                Interlocked.Increment(ref completed);
            }
        }

        var lanes = Enumerable.Range(0, o.Depth).Select(i => Task.Run(() => Lane(i))).ToArray();
        Thread.Sleep(TimeSpan.FromSeconds(o.Warmup));
        long startCount = Interlocked.Read(ref completed);
        double startCpu = CpuClock.Seconds();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(o.Seconds));
        long ios = Interlocked.Read(ref completed) - startCount;
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = CpuClock.Seconds() - startCpu;
        Volatile.Write(ref stop, 1);
        Task.WaitAll(lanes);
        foreach (var owner in owners) owner.Dispose();
        return new Result("randomaccess", ios, seconds, cpu, $"threadpool_threads={ThreadPool.ThreadCount}");
    }
}
