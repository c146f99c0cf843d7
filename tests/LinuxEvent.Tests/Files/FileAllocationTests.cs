using System.Runtime.InteropServices;

namespace LinuxEvent.Tests;

/// <summary>
/// Reads, writes (also vectored) and fdatasync allocate nothing per operation in steady state on the real backends:
/// pooled awaitables, a reused request per awaitable (its iovec array on the pinned heap), pinned buffers. The reactor
/// is measured on both of its paths (page-cache reads inline, and everything through the worker pool); its workers
/// themselves allocate nothing by construction (an intrusive queue, reused completion lists).
/// </summary>
public class FileAllocationTests : FdCheckedTest
{
    [TestCase("epoll")]
    [TestCase("epoll-workers")]
    [TestCase("uring")]
    public void SteadyStateFileOperationsAllocateNothing(string backend)
    {
        using var loop = backend switch
        {
            "epoll" => Loop.CreateReactor(),
            "epoll-workers" => Loop.CreateReactor(new ReactorOptions { InlineCachedFileReads = false }),
            _ => Backends.RealProactors[0].Create(),
        };
        using var files = new FileScript(loop);
        int fd = files.CreateFile("alloc", new byte[64 * 1024]);
        var read = MemoryMarshal.CreateFromPinnedArray(GC.AllocateArray<byte>(4096, pinned: true), 0, 4096);
        var write = MemoryMarshal.CreateFromPinnedArray(GC.AllocateArray<byte>(512, pinned: true), 0, 512);
        var vector = new Memory<byte>[] { read[..1024], read[1024..2048] };
        var gather = new ReadOnlyMemory<byte>[] { write[..256], write[256..] };
        long allocated = -1;
        loop.Run(async () =>
        {
            async Task Round(int n)
            {
                for (int i = 0; i < n; i++)
                {
                    long at = (i % 16) * 4096L;
                    await loop.ReadAtAsync(fd, read, at);
                    await loop.WriteAtAsync(fd, write, at);
                    await loop.ReadAtAsync(fd, vector, at);
                    await loop.WriteAtAsync(fd, gather, at);
                    if (i % 64 == 0) await loop.FdatasyncAsync(fd);
                }
            }
            await Round(int.Parse(Environment.GetEnvironmentVariable("ALLOC_W") ?? "300"));                                 // warm up pools, worker threads, JIT tiers
            long before = GC.GetAllocatedBytesForCurrentThread();
            await Round(int.Parse(Environment.GetEnvironmentVariable("ALLOC_N") ?? "1000"));
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.That(allocated, Is.LessThanOrEqualTo(256), "bytes allocated over 4,000+ awaited file operations (one state machine box at most)");
    }
}
