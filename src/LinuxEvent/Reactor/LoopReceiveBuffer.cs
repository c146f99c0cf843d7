using System.Buffers;

namespace LinuxEvent.Reactor;

/// <summary>
/// The reactor's one receive buffer per loop. A stream channel reads into it only while it handles a readiness report
/// and hands the bytes to its owner as a span, which the owner consumes or copies before it returns
/// (<see cref="IStreamChannelHandler.OnReceived"/>). A loop thread handles one report at a time, so one buffer serves
/// every stream of the loop and an idle connection holds none: what a codec has not consumed yet (a partial frame)
/// is all a stream keeps between reads.
/// </summary>
internal sealed class LoopReceiveBuffer
{
    /// <summary>The smallest buffer allocated; it grows (once, for good) to the largest receive size a stream asks for.</summary>
    internal const int MinimumSize = 64 * 1024;

    private byte[]? _buffer;
    private bool _inUse;

    /// <summary>Bytes allocated (0 until the first read).</summary>
    internal int Size => _buffer?.Length ?? 0;

    /// <summary>
    /// Takes at least <paramref name="size"/> bytes for one report's reads; give it back with <see cref="Return"/>.
    /// A nested take (a handler that makes another stream read synchronously, which no loop component does) gets a
    /// rented array instead of overwriting bytes its caller is still looking at.
    /// </summary>
    internal byte[] Take(int size)
    {
        if (_inUse) return ArrayPool<byte>.Shared.Rent(size);
        _inUse = true;
        if (_buffer is null || _buffer.Length < size) _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(MinimumSize, size));
        return _buffer;
    }

    /// <summary>Gives back what <see cref="Take"/> returned.</summary>
    internal void Return(byte[] buffer)
    {
        if (ReferenceEquals(buffer, _buffer)) _inUse = false;
        else ArrayPool<byte>.Shared.Return(buffer);
    }
}
