namespace LinuxEvent.Tests;

/// <summary>A pool whose disposal the kernel refused stays usable and can be disposed again.</summary>
public class ProvidedBufferPoolTests : FdCheckedTest
{
    [Test]
    public void ADisposeRefusedOnTheWrongThreadLeavesThePoolAliveAndCanBeRetried()
    {
        ProactorLoop loop;
        try { loop = Loop.CreateProactor(); }
        catch (LinuxEventUnsupportedException ex) { Assert.Ignore("io_uring unavailable here: " + ex.Message); return; }
        using (loop)
        {
            ProvidedBufferPool pool;
            try { pool = loop.CreateBufferPool(4, 64); }          // binds the ring to this thread (IORING_REGISTER_PBUF_RING)
            catch (LinuxEventUnsupportedException ex) { Assert.Ignore(ex.Message); return; }
            Exception? refused = null;
            var t = new Thread(() =>
            {
                try { pool.Dispose(); } catch (Exception ex) { refused = ex; }
            });
            t.Start();
            t.Join();
            if ((loop.Capabilities!.SetupFlags & 0x1000) == 0) Assert.Ignore("without IORING_SETUP_SINGLE_ISSUER any thread may unregister");
            Assert.That(refused, Is.InstanceOf<InvalidOperationException>(), "the ring belongs to this thread");
            Assert.That(pool.IsDisposed, Is.False, "a refused dispose must not mark the pool disposed");
            pool.Dispose();
            Assert.That(pool.IsDisposed, Is.True);
        }
    }
}
