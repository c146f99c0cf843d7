using System.Buffers;

namespace LinuxEvent.Tests;

/// <summary>A submission that throws leaves nothing behind: no slot, no pin, and no callback later.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class ProactorSubmitFailureTests(Backend backend) : FdCheckedTest
{
    /// <summary>Memory whose Pin throws, as a MemoryManager over non-pinnable storage may.</summary>
    private sealed class UnpinnableMemory : MemoryManager<byte>
    {
        private readonly byte[] _array = new byte[16];
        public override Span<byte> GetSpan() => _array;
        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("this memory cannot be pinned");
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }

    [Test]
    public void APinThatThrowsLeavesNoPendingSlotBehind()
    {
        int callbacks = 0;
        var (a, b) = Posix.SocketPair();
        try
        {
            using (var loop = (ProactorLoop)backend.Create())
            {
                using var memory = new UnpinnableMemory();
                Assert.Throws<NotSupportedException>(() => loop.Receive(b, memory.Memory, _ => callbacks++));
                Assert.Throws<NotSupportedException>(() => loop.Send(b, memory.Memory, _ => callbacks++));
                Assert.That(loop.LiveOperationCount, Is.Zero, "the failed submissions hold no slot");
                if (loop.Fake is { } fake) Assert.That(fake.Pending, Is.Empty);
                // A phantom left in the slot table would be found (and settled, running its callback) by anything that
                // walks the live operations: CloseAfterCancel on its fd does.
                var close = loop.CloseAfterCancel(b);
                if (loop.Fake is { } f) f.Complete(close, 0);
                loop.RunUntil(() => close.IsSettled, TimeSpan.FromSeconds(5));
                if (loop.Fake is not null) Posix.Close(b);
                b = -1;
                loop.RunOnce(TimeSpan.Zero);
            }
            Assert.That(callbacks, Is.Zero, "a call that threw must never settle later (not even at disposal)");
        }
        finally
        {
            Posix.Close(a);
            if (b >= 0) Posix.Close(b);
        }
    }
}
