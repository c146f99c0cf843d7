using System.Text;
using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// <see cref="ProactorLoop.RegisterFileBuffers"/>: an <see cref="AlignedBufferPool"/> registered with the ring
/// (IORING_REGISTER_BUFFERS) makes reads and writes inside its buffers READ_FIXED/WRITE_FIXED; other memory still works;
/// the loop holds the pool's memory until it is disposed. On the fake the call changes nothing.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class FixedFileBufferTests(Backend backend) : FdCheckedTest
{
    private ProactorLoop Create() => (ProactorLoop)backend.Create();

    private static long FixedRequests(ProactorLoop loop) => loop.Backend is UringProactorBackend u ? u.FixedBufferRequests : 0;

    /// <summary>Registers, or makes the test inconclusive when the kernel refuses (RLIMIT_MEMLOCK, an old kernel).</summary>
    private static void Register(ProactorLoop loop, AlignedBufferPool pool)
    {
        try
        {
            loop.RegisterFileBuffers(pool);
        }
        catch (LinuxEventException ex) when (ex.Errno is Errno.ENOMEM or Errno.EINVAL or Errno.EPERM)
        {
            Assert.Ignore($"the kernel refused IORING_REGISTER_BUFFERS here: {ex.Message}");
        }
    }

    [Test]
    public void ReadsAndWritesInsideARegisteredBufferMoveTheRightBytes()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        using var pool = new AlignedBufferPool(4096, 4);
        Register(loop, pool);
        int fd = files.CreateFile("fixed", Encoding.ASCII.GetBytes(new string('.', 8192)));

        using var source = pool.Rent();
        Encoding.ASCII.GetBytes("registered buffer").CopyTo(source.Memory.Span);
        Assert.That(files.Wait(loop.WriteAtAsync(fd, source.Memory[..17], 4096)), Is.EqualTo(17));

        using var target = pool.Rent();
        var inside = target.Memory.Slice(100, 17);        // not at the buffer's start: still inside buffer 1
        Assert.That(files.Wait(loop.ReadAtAsync(fd, inside, 4096)), Is.EqualTo(17));
        Assert.That(Encoding.ASCII.GetString(inside.Span), Is.EqualTo("registered buffer"));
        Assert.That(File.ReadAllText(files.PathOf("fixed")).Substring(4090, 25), Is.EqualTo("......registered buffer.."));
        if (!backend.IsFake) Assert.That(FixedRequests(loop), Is.EqualTo(2), "both requests were READ_FIXED/WRITE_FIXED");
    }

    [Test]
    public void MemoryOutsideThePoolStillUsesPlainReadsAndWrites()
    {
        using var loop = Create();
        using var files = new FileScript(loop);
        using var pool = new AlignedBufferPool(4096, 2);
        Register(loop, pool);
        int fd = files.CreateFile("plain", Encoding.ASCII.GetBytes("outside the pool"));

        var managed = new byte[16];
        Assert.That(files.Wait(loop.ReadAtAsync(fd, managed, 0)), Is.EqualTo(16));
        Assert.That(Encoding.ASCII.GetString(managed), Is.EqualTo("outside the pool"));
        Assert.That(files.Wait(loop.WriteAtAsync(fd, Encoding.ASCII.GetBytes("OUT"), 0)), Is.EqualTo(3));
        Assert.That(File.ReadAllText(files.PathOf("plain")), Is.EqualTo("OUTside the pool"));
        Assert.That(FixedRequests(loop), Is.Zero, "memory outside the registered buffers is not submitted as fixed");
    }

    [Test]
    public void TheLoopHoldsThePoolUntilItIsDisposedAndASecondPoolIsRefused()
    {
        var pool = new AlignedBufferPool(4096, 2);
        var loop = Create();
        try
        {
            Register(loop, pool);
            using var other = new AlignedBufferPool(4096, 1);
            if (!backend.IsFake)
                Assert.Throws<InvalidOperationException>(() => loop.RegisterFileBuffers(other), "one buffer table per ring");
            pool.Dispose();
            if (!backend.IsFake) Assert.That(pool.IsFreed, Is.False, "the ring still has the pages registered: the loop holds the memory");
        }
        finally
        {
            loop.Dispose();
        }
        Assert.That(pool.IsFreed, Is.True, "loop disposal closed the ring (dropping the table) and released the pool");
    }

    [Test]
    public void ADisposedPoolIsRefused()
    {
        using var loop = Create();
        var pool = new AlignedBufferPool(4096, 1);
        pool.Dispose();
        if (backend.IsFake) Assert.Pass("the fake records nothing");
        Assert.Throws<ObjectDisposedException>(() => loop.RegisterFileBuffers(pool));
    }
}
