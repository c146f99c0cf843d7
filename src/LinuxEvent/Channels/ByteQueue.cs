using System.Buffers;

namespace LinuxEvent;

/// <summary>
/// A FIFO of bytes in one contiguous array rented from <see cref="ArrayPool{T}.Shared"/>: append at the tail, consume
/// from the head. Contiguity lets a whole queue go to one send(2)/IORING_OP_SEND. Not thread-safe (loop thread).
/// </summary>
/// <remarks>
/// <para>Appending may compact or move the data to a bigger array, so callers must not append while a kernel operation
/// reads from <see cref="Memory"/> (the proactor stream channel keeps the in-flight bytes in a separate queue for that
/// reason).</para>
/// <para><b>Memory.</b> A new queue holds no array; the first append rents one. Consuming keeps the array (a busy
/// queue does not rent and return per message); <see cref="TrimExcess"/> gives it back once the queue is empty, or
/// moves a few bytes left in a large array into a small one. Stream channels and <c>LoopStream</c> trim after each
/// delivery and send, so an idle connection holds no buffer at all.</para>
/// </remarks>
public sealed class ByteQueue
{
    private byte[] _buffer = Array.Empty<byte>();
    private int _head, _tail;

    /// <summary>Bytes queued.</summary>
    public int Length => _tail - _head;

    /// <summary>Size of the array held (0 when the queue holds none).</summary>
    public int Capacity => _buffer.Length;

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

    /// <summary>
    /// Gives memory back: an empty queue returns its array to the pool; a queue holding less than a quarter of a
    /// large array (over 4 KiB) moves its bytes into a smaller one. Spans and memory obtained earlier are invalid
    /// afterwards. Cheap when there is nothing to do.
    /// </summary>
    public void TrimExcess()
    {
        int length = _tail - _head;
        if (length == 0)
        {
            if (_buffer.Length > 0) Release();
            return;
        }
        if (_buffer.Length <= 4096 || length > _buffer.Length / 4) return;
        var smaller = ArrayPool<byte>.Shared.Rent(Math.Max(256, length));
        Buffer.BlockCopy(_buffer, _head, smaller, 0, length);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = smaller;
        _head = 0;
        _tail = length;
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
