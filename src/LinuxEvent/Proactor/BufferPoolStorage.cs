namespace LinuxEvent.Proactor;

/// <summary>A pool's backend-specific storage.</summary>
internal abstract class BufferPoolStorage : IDisposable
{
    public abstract Span<byte> Buffer(ushort id, int length);
    public abstract void Recycle(ushort id);
    public abstract void Dispose();
}
