using System.Buffers;
using System.Runtime.InteropServices;

namespace LinuxEvent;

/// <summary>
/// A fixed pool of equal-sized buffers in native memory, aligned for O_DIRECT (<see cref="FileOpenFlags.Direct"/>):
/// one <c>NativeMemory.AlignedAlloc</c> block cut into <see cref="BufferCount"/> buffers of <see cref="BufferSize"/>
/// bytes, each starting at a multiple of <see cref="Alignment"/>. The memory never moves, so pinning a rented buffer
/// for an I/O (what the loop does) costs nothing. Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Renting</b>: <see cref="Rent"/> hands out a buffer as an <see cref="IMemoryOwner{T}"/> whose
/// <see cref="IMemoryOwner{T}.Memory"/> spans the whole buffer; slice it, keeping the start (the aligned address).
/// Disposing the owner returns the buffer: do it once, after the last I/O on it has completed. Renting allocates
/// nothing: each buffer's owner object is created once with the pool.</para>
/// <para><b>Alignment</b>: O_DIRECT needs the buffer address, the length and the file offset to be multiples of the
/// device's logical block size (512 or 4096 bytes; <see cref="FileStatus.DirectIoMemoryAlignment"/> reports it). The
/// default alignment, 4096, satisfies both; a buffer size that is a multiple of it keeps every buffer aligned.</para>
/// <para><b>Disposal</b> frees the native block once every buffer has been returned and unpinned; until then the
/// memory stays valid (an I/O still in flight may be writing into it), and it is freed by the last return.</para>
/// </remarks>
public sealed unsafe class AlignedBufferPool : MemoryPool<byte>
{
    private readonly object _lock = new();
    private readonly Slot[] _slots;
    private readonly Stack<Slot> _free;
    private byte* _memory;
    private int _outstanding;           // rented, not yet returned
    private int _pins;                  // Pin() calls not yet unpinned (I/Os in flight)
    private volatile bool _disposed;

    /// <summary>Creates <paramref name="bufferCount"/> buffers of <paramref name="bufferSize"/> bytes, each aligned to
    /// <paramref name="alignment"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alignment"/> is not a power of two in 1..1 MiB,
    /// <paramref name="bufferSize"/> is not a positive multiple of it, <paramref name="bufferCount"/> is not positive,
    /// or the total exceeds 16 GiB.</exception>
    /// <exception cref="OutOfMemoryException">The native allocation failed.</exception>
    public AlignedBufferPool(int bufferSize, int bufferCount, int alignment = 4096)
    {
        if (alignment < 1 || alignment > 1 << 20 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "AlignedBufferPool: the alignment must be a power of two in 1..1048576.");
        if (bufferSize < 1 || bufferSize % alignment != 0)
            throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, $"AlignedBufferPool: the buffer size must be a positive multiple of the alignment ({alignment}).");
        if (bufferCount < 1 || (long)bufferSize * bufferCount > 16L << 30)
            throw new ArgumentOutOfRangeException(nameof(bufferCount), bufferCount, "AlignedBufferPool: the buffer count must be positive and the pool at most 16 GiB.");
        BufferSize = bufferSize;
        BufferCount = bufferCount;
        Alignment = alignment;
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)bufferSize * (nuint)bufferCount, (nuint)alignment);
        NativeMemory.Clear(_memory, (nuint)bufferSize * (nuint)bufferCount);
        _slots = new Slot[bufferCount];
        _free = new Stack<Slot>(bufferCount);
        for (int i = bufferCount - 1; i >= 0; i--)
        {
            _slots[i] = new Slot(this, _memory + (long)i * bufferSize);
            _free.Push(_slots[i]);
        }
    }

    /// <summary>Bytes per buffer.</summary>
    public int BufferSize { get; }

    /// <summary>Buffers in the pool.</summary>
    public int BufferCount { get; }

    /// <summary>The alignment of every buffer's address, in bytes.</summary>
    public int Alignment { get; }

    /// <summary>Buffers not rented right now.</summary>
    public int Available { get { lock (_lock) return _free.Count; } }

    /// <inheritdoc />
    public override int MaxBufferSize => BufferSize;

    /// <summary>Rents a buffer of <see cref="BufferSize"/> bytes.</summary>
    /// <param name="minBufferSize">At most <see cref="BufferSize"/>; -1 (default) for any.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> exceeds <see cref="BufferSize"/>.</exception>
    /// <exception cref="InvalidOperationException">Every buffer is rented.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BufferSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"AlignedBufferPool.Rent: the buffers are {BufferSize} bytes.");
        return TryRent(out var owner) ? owner
            : throw new InvalidOperationException($"AlignedBufferPool.Rent: all {BufferCount} buffers are rented; return one (dispose its owner) first.");
    }

    /// <summary>Rents a buffer if one is free.</summary>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public bool TryRent([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IMemoryOwner<byte>? owner)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_free.Count == 0)
            {
                owner = null;
                return false;
            }
            var slot = _free.Pop();
            slot.Rented = true;
            _outstanding++;
            owner = slot;
            return true;
        }
    }

    /// <summary>Marks the pool disposed; the memory is freed now, or by the last return if buffers are still out.</summary>
    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            FreeIfIdle();
        }
    }

    private void Return(Slot slot)
    {
        lock (_lock)
        {
            if (!slot.Rented) return;       // a second Dispose of the same owner
            slot.Rented = false;
            _outstanding--;
            if (_disposed) FreeIfIdle();
            else _free.Push(slot);
        }
    }

    // Pins are counted without the lock (two per I/O on a hot path); only a pin count reaching zero after disposal takes
    // it. Interlocked is a full fence and _disposed is volatile, so either the last unpin sees _disposed or Dispose sees
    // the count at zero: the memory is freed exactly once, by whichever comes second.
    /// <summary>The start of the native block (buffer i starts at i × <see cref="BufferSize"/>); null once freed.</summary>
    internal byte* BaseAddress => _memory;

    /// <summary>Whether the native block has been freed (disposed, every buffer returned, no pin or hold left).</summary>
    internal bool IsFreed { get { lock (_lock) return _memory is null; } }

    /// <summary>A hold on the memory that is not a rented buffer: an io_uring ring that registered the block keeps it
    /// until the ring is closed (ProactorLoop.RegisterFileBuffers), so disposing the pool first cannot free it.</summary>
    internal void AddHold(int delta) => AddPin(delta);

    private void AddPin(int delta)
    {
        if (Interlocked.Add(ref _pins, delta) == 0 && _disposed)
            lock (_lock) FreeIfIdle();
    }

    private void FreeIfIdle()
    {
        if (_outstanding != 0 || Volatile.Read(ref _pins) != 0 || _memory is null) return;
        NativeMemory.AlignedFree(_memory);
        _memory = null;
    }

    /// <summary>One buffer: its owner object and its <see cref="MemoryManager{T}"/>, created once.</summary>
    private sealed class Slot(AlignedBufferPool pool, byte* start) : MemoryManager<byte>
    {
        internal bool Rented;

        public override Span<byte> GetSpan()
        {
            if (pool._memory is null) throw new ObjectDisposedException(nameof(AlignedBufferPool));
            return new Span<byte>(start, pool.BufferSize);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if ((uint)elementIndex > (uint)pool.BufferSize) throw new ArgumentOutOfRangeException(nameof(elementIndex));
            pool.AddPin(1);
            return new MemoryHandle(start + elementIndex, default, this);
        }

        public override void Unpin() => pool.AddPin(-1);

        // IMemoryOwner<byte>.Dispose (through MemoryManager's IDisposable): give the buffer back.
        protected override void Dispose(bool disposing) => pool.Return(this);
    }
}
