using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxEvent.Tests;

/// <summary>The O_DIRECT buffer pool: alignment, renting and returning, exhaustion, pins, and disposal.</summary>
public class AlignedBufferPoolTests : FdCheckedTest
{
    // The address without unsafe code: the distance from the null reference.
    private static long AddressOf(Memory<byte> memory)
        => Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(memory.Span));

    [TestCase(512)]
    [TestCase(4096)]
    [TestCase(65536)]
    public void EveryBufferStartsAtAMultipleOfTheAlignment(int alignment)
    {
        using var pool = new AlignedBufferPool(alignment * 2, 5, alignment);
        var owners = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        var addresses = owners.Select(o => AddressOf(o.Memory)).ToList();
        Assert.That(addresses.All(a => a % alignment == 0), Is.True);
        Assert.That(addresses.Distinct().Count(), Is.EqualTo(5));
        Assert.That(owners.All(o => o.Memory.Length == alignment * 2), Is.True);
        // Buffers do not overlap: writing one leaves the others alone.
        owners[2].Memory.Span.Fill(0xAB);
        Assert.That(owners[1].Memory.Span.ToArray().Concat(owners[3].Memory.Span.ToArray()), Is.All.Zero);
        foreach (var o in owners) o.Dispose();
    }

    [Test]
    public void RentingRunsOutAndReturningRefills()
    {
        using var pool = new AlignedBufferPool(4096, 2);
        Assert.That(pool.MaxBufferSize, Is.EqualTo(4096));
        var a = pool.Rent();
        var b = pool.Rent(4096);
        Assert.That(pool.Available, Is.Zero);
        Assert.That(pool.TryRent(out _), Is.False);
        Assert.That(Assert.Throws<InvalidOperationException>(() => pool.Rent())!.Message, Does.Contain("all 2 buffers are rented"));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(4097));
        a.Dispose();
        a.Dispose();                                         // a second return of the same owner is ignored
        Assert.That(pool.Available, Is.EqualTo(1));
        Assert.That(pool.TryRent(out var c), Is.True);
        b.Dispose();
        c!.Dispose();
        Assert.That(pool.Available, Is.EqualTo(2));
    }

    [Test]
    public void RentingAndPinningAllocateNothing()
    {
        using var pool = new AlignedBufferPool(4096, 4);
        for (int i = 0; i < 100; i++) { using var o = pool.Rent(); using var h = o.Memory.Pin(); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            var o = pool.Rent();
            var h = o.Memory.Pin();
            h.Dispose();
            o.Dispose();
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void DisposalWaitsForTheLastBufferAndPinBeforeFreeing()
    {
        var pool = new AlignedBufferPool(4096, 2);
        var owner = pool.Rent();
        var pin = owner.Memory.Pin();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        ref byte first = ref MemoryMarshal.GetReference(owner.Memory.Span);
        first = 1;                                            // still valid: rented and pinned (an I/O may be in flight)
        owner.Dispose();
        first = 2;                                            // still valid: pinned
        pin.Dispose();                                        // the last pin goes: the block is freed now
        Assert.Throws<ObjectDisposedException>(() => _ = owner.Memory.Span.Length);
    }

    [Test]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool(4096, 1, alignment: 3000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool(4097, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool(4096, 0));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBufferPool(0, 1))!.Message, Does.Contain("multiple of the alignment"));
    }

    [Test]
    public void ItIsAMemoryPool()
    {
        MemoryPool<byte> pool = new AlignedBufferPool(8192, 1);
        using (var o = pool.Rent(100)) Assert.That(o.Memory.Length, Is.EqualTo(8192));
        pool.Dispose();
    }
}
