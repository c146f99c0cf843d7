using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;
using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

internal sealed unsafe partial class UringProactorBackend
{
    // ================================================================== provided-buffer pools

    public override ProvidedBufferPool CreateBufferPool(int count, int size)
    {
        if (Is(State.Abandoned) || Is(State.Disposed)) throw new ObjectDisposedException(nameof(ProactorLoop));
        if (!Capabilities.Supports(UringNative.IORING_OP_SOCKET))
            throw new LinuxEventUnsupportedException(Errno.EINVAL, "ProactorLoop.CreateBufferPool",
                $"Provided-buffer rings need Linux 5.19 or later ({_ring.Capabilities}).");
        // IORING_REGISTER_PBUF_RING is an io_uring_register call: the SINGLE_ISSUER owner only.
        EnsureKernelAccess("ProactorLoop.CreateBufferPool");
        int gid = _pools.IndexOf(null);
        if (gid < 0)
        {
            gid = _pools.Count;
            if (gid > ushort.MaxValue) throw new InvalidOperationException("ProactorLoop.CreateBufferPool: all 65536 buffer group ids are in use.");
            _pools.Add(null);
        }
        var ring = _ring.RegisterBufferRing((ushort)gid, count, size);
        var storage = new UringPoolStorage(this, ring);
        _pools[gid] = storage;
        return new ProvidedBufferPool(_loop, (ushort)gid, count, size, storage);
    }

    private void DisposePool(UringPoolStorage storage)
    {
        if (storage.Disposed) return;
        if (Is(State.Abandoned))
        {
            // The ring fd is closed but the kernel may still be tearing it down: keep the memory (deliberate leak).
            storage.Disposed = true;
            return;
        }
        if (!_ring.IsDisposed) EnsureKernelAccess("ProvidedBufferPool.Dispose");   // IORING_UNREGISTER_PBUF_RING
        storage.Ring.Dispose();           // after the ring's own disposal this only frees the memory
        storage.Disposed = true;
        int gid = storage.Ring.GroupId;
        if (gid < _pools.Count && ReferenceEquals(_pools[gid], storage)) _pools[gid] = null;
    }

    private sealed class UringPoolStorage(UringProactorBackend owner, UringBufferRing ring) : BufferPoolStorage
    {
        public readonly UringBufferRing Ring = ring;
        public bool Disposed;
        public override Span<byte> Buffer(ushort id, int length) => Ring.GetBuffer(id, length);
        public override void Recycle(ushort id) => Ring.Recycle(id);
        public override void Dispose() => owner.DisposePool(this);
    }
}
