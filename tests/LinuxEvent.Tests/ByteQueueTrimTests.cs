using LinuxEvent.Reactor;

namespace LinuxEvent.Tests;

/// <summary>ByteQueue.TrimExcess and the reactor's loop-wide receive buffer: how idle connections give memory back.</summary>
public class ByteQueueTrimTests : FdCheckedTest
{
    [Test]
    public void AnEmptyQueueGivesItsArrayBackAndAFewBytesLeaveALargeArray()
    {
        var q = new ByteQueue();
        Assert.That(q.Capacity, Is.Zero, "a new queue holds no array");
        q.Append(new byte[100]);
        Assert.That(q.Capacity, Is.GreaterThanOrEqualTo(100));
        q.Consume(100);
        Assert.That(q.Capacity, Is.GreaterThan(0), "consuming keeps the array (no rent/return per message)");
        q.TrimExcess();
        Assert.That(q.Capacity, Is.Zero, "empty: the array went back to the pool");

        var data = new byte[64 * 1024];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)i;
        q.Append(data);
        q.Consume(data.Length - 10);
        q.TrimExcess();
        Assert.That(q.Capacity, Is.InRange(10, 256), "10 bytes left in a 64 KiB array move to a small one");
        Assert.That(q.Span.ToArray(), Is.EqualTo(data[^10..]));

        q.Append(new byte[2000]);
        int before = q.Capacity;
        q.TrimExcess();
        Assert.That(q.Capacity, Is.EqualTo(before), "a queue that uses its array keeps it");
        q.Release();
    }

    [Test]
    public void TheReactorsReceiveBufferIsOnePerLoopAndANestedTakeGetsItsOwn()
    {
        var shared = new LoopReceiveBuffer();
        Assert.That(shared.Size, Is.Zero, "allocated at the first read");
        var first = shared.Take(16 * 1024);
        Assert.That(first.Length, Is.EqualTo(LoopReceiveBuffer.MinimumSize));
        var nested = shared.Take(16 * 1024);
        Assert.That(nested, Is.Not.SameAs(first), "a nested take must not overwrite bytes its caller is still reading");
        shared.Return(nested);
        shared.Return(first);
        Assert.That(shared.Take(100), Is.SameAs(first), "the same buffer serves the next report");
        shared.Return(first);
        var larger = shared.Take(LoopReceiveBuffer.MinimumSize * 2);
        Assert.That(larger.Length, Is.EqualTo(LoopReceiveBuffer.MinimumSize * 2), "it grows to the largest receive size asked for");
        shared.Return(larger);
        Assert.That(shared.Size, Is.EqualTo(LoopReceiveBuffer.MinimumSize * 2));
    }
}
