using System.Buffers;

namespace LinuxEvent;

/// <summary>
/// A FIFO of bytes in one contiguous array rented from <see cref="ArrayPool{T}.Shared"/>: append at the tail, consume
/// from the head. Contiguity lets a whole queue go to one send(2)/IORING_OP_SEND. Not thread-safe (loop thread).
/// </summary>
/// <remarks>
/// Appending may compact or move the data to a bigger array, so callers must not append while a kernel operation
/// reads from <see cref="Memory"/> (the proactor stream channel keeps the in-flight bytes in a separate queue for that
/// reason). An empty queue holds no array: a connection that is not writing costs no buffer.
/// </remarks>
public sealed class ByteQueue
{
    private byte[] _buffer = Array.Empty<byte>();
    private int _head, _tail;

    /// <summary>Bytes queued.</summary>
    public int Length => _tail - _head;

    /// <summary>The queued bytes, contiguous (valid until the next append or release).</summary>
    public ReadOnlySpan<byte> Span => new(_buffer, _head, _tail - _head);

    /// <summary>The queued bytes as memory (valid until the next append or release).</summary>
    public ReadOnlyMemory<byte> Memory => new(_buffer, _head, _tail - _head);

    /// <summary>Appends a copy of <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        data.CopyTo(Reserve(data.Length));
        _tail += data.Length;
    }

    /// <summary>Space for <paramref name="size"/> more bytes at the tail; make them visible with <see cref="Commit"/>.</summary>
    public Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _tail < size)
        {
            int length = Length;
            if (_buffer.Length - length >= size && _head > 0)
            {
                // Enough room in total: slide the live bytes to the front instead of growing.
                Buffer.BlockCopy(_buffer, _head, _buffer, 0, length);
            }
            else
            {
                int want = Math.Max(length + size, Math.Max(256, _buffer.Length * 2));
                var bigger = ArrayPool<byte>.Shared.Rent(want);
                Buffer.BlockCopy(_buffer, _head, bigger, 0, length);
                if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            _head = 0;
            _tail = length;
        }
        return _buffer.AsSpan(_tail, size);
    }

    /// <summary>Makes <paramref name="size"/> bytes written into the last <see cref="Reserve"/> part of the queue.</summary>
    public void Commit(int size) => _tail += size;

    /// <summary>Drops <paramref name="count"/> bytes from the head.</summary>
    public void Consume(int count)
    {
        _head += count;
        if (_head >= _tail) _head = _tail = 0;      // empty: restart at the front so later appends need no compaction
    }

    /// <summary>Drops everything, keeping the array.</summary>
    public void Clear() => _head = _tail = 0;

    /// <summary>Returns the array to the pool. The queue stays usable (it rents again on the next append).</summary>
    public void Release()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = Array.Empty<byte>();
        _head = _tail = 0;
    }

    /// <summary>
    /// Drops the array without returning it to the pool, for when a caller may still hold a slice of it: the GC
    /// reclaims it once that slice is gone, and no other renter can overwrite it meanwhile.
    /// </summary>
    public void Abandon()
    {
        _buffer = Array.Empty<byte>();
        _head = _tail = 0;
    }
}
