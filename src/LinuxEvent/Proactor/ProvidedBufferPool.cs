using LinuxEvent.Proactor;

namespace LinuxEvent;

/// <summary>
/// A group of equally sized buffers that the kernel picks from for <see cref="ProactorLoop.ReceiveMultishot"/>
/// (io_uring provided-buffer ring). Created by <see cref="ProactorLoop.CreateBufferPool"/>; loop-thread only.
/// A buffer is lent to one receive callback and returns to the pool when that callback returns.
/// Dispose the pool after the receives that use it have ended.
/// </summary>
public sealed class ProvidedBufferPool : IDisposable
{
    internal readonly ProactorLoop Loop;
    internal readonly BufferPoolStorage Storage;
    internal int Users;

    internal ProvidedBufferPool(ProactorLoop loop, ushort groupId, int count, int size, BufferPoolStorage storage)
    {
        Loop = loop;
        GroupId = groupId;
        Count = count;
        BufferSize = size;
        Storage = storage;
    }

    /// <summary>The buffer group id (bgid) the kernel knows the pool by.</summary>
    public ushort GroupId { get; }

    /// <summary>Number of buffers.</summary>
    public int Count { get; }

    /// <summary>Size of each buffer in bytes.</summary>
    public int BufferSize { get; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Unregisters the pool and frees its memory.</summary>
    /// <exception cref="InvalidOperationException">A multishot receive still uses it.</exception>
    public void Dispose()
    {
        if (IsDisposed) return;
        if (Users > 0) throw new InvalidOperationException($"ProvidedBufferPool.Dispose: {Users} multishot receive(s) still use buffer group {GroupId}; cancel them first.");
        // Released first: if the kernel refuses (a thread the ring does not accept), the pool stays usable and the
        // Dispose can be retried.
        Storage.Dispose();
        IsDisposed = true;
    }
}
