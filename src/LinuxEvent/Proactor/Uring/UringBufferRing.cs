using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19) for one buffer group: <see cref="Count"/> buffers of
/// <see cref="BufferSize"/> bytes in one contiguous, page-aligned native area (never moved by the GC), announced to
/// the kernel through a ring of <see cref="IoUringBuf"/> slots in anonymous page-aligned memory. Requests with
/// IOSQE_BUFFER_SELECT and this group id (e.g. <see cref="UringPrep.RecvMultishot"/>) take a buffer when data
/// arrives, so no memory is committed to idle connections.
/// <para><b>Ownership contract.</b> After registration every buffer belongs to the kernel. A CQE with
/// IORING_CQE_F_BUFFER hands buffer <c>flags &gt;&gt; 16</c> to the consumer — whatever its <c>res</c>, including
/// 0 (EOF) — and the consumer owns it until it calls <see cref="Recycle"/>. The consumer marks receipt with
/// <see cref="Take"/>, reads it with <see cref="GetBuffer"/>, and must recycle every taken buffer exactly once;
/// a buffer that is never recycled is lost to the group. Double recycling would let the kernel hand one buffer to
/// two requests, so it is detected and rejected.</para>
/// <para><b>Exhaustion.</b> When the group has no buffer, a buffer-selecting request completes with -ENOBUFS; a
/// multishot request then terminates (no IORING_CQE_F_MORE) and must be re-armed after buffers are recycled. Data
/// stays in the socket meanwhile.</para>
/// <para><b>Lifetime.</b> Dispose only when no request of this group can still be running (cancel and reap them
/// first): a request executing on an io-wq worker may already hold a buffer address. Registration and
/// unregistration are io_uring_register calls, which a SINGLE_ISSUER ring accepts only from its submitter thread.
/// Disposing the owning <see cref="UringRing"/> releases this object as well. Not thread-safe.</para>
/// </summary>
internal sealed unsafe class UringBufferRing : IDisposable
{
    private readonly UringRing _ring;
    private IoUringBuf* _slots;   // the ring shared with the kernel; its 16-bit tail overlays slots[0].resv
    private readonly nuint _slotsSize;
    private byte* _area;          // Count × BufferSize bytes
    private readonly ushort* _tailPtr;
    private readonly ushort _mask;
    private ushort _tail;
    private readonly bool[] _consumerOwned;
    private int _consumerOwnedCount;
    private bool _released;

    internal UringBufferRing(UringRing ring, ushort groupId, int count, int bufferSize)
    {
        if (count <= 0 || count > UringNative.PBUF_RING_MAX_ENTRIES || !BitOperations.IsPow2(count))
            throw new ArgumentOutOfRangeException(nameof(count), count,
                "The buffer count must be a power of two between 1 and 32768 (the kernel requires a power-of-two ring below 65536 entries).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        if ((long)count * bufferSize > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, "count × bufferSize must not exceed 2 GiB.");

        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = bufferSize;
        _mask = (ushort)(count - 1);
        _consumerOwned = new bool[count];

        nuint page = (nuint)Environment.SystemPageSize;
        _slotsSize = ((nuint)count * (nuint)sizeof(IoUringBuf) + page - 1) & ~(page - 1);
        // Anonymous mmap: page-aligned (required by 5.19–6.x for user-provided ring memory) and zero-filled.
        void* slots = Libc.Mmap(null, _slotsSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (slots == (void*)-1)
            throw new LinuxEventException(Libc.LastErrno, string.Create(CultureInfo.InvariantCulture,
                $"mmap(provided-buffer ring, size={_slotsSize})"));
        _slots = (IoUringBuf*)slots;
        _tailPtr = (ushort*)((byte*)slots + 14); // offsetof(struct io_uring_buf_ring, tail)

        try
        {
            _area = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)bufferSize, page);

            IoUringBufReg reg = default;
            reg.ring_addr = (ulong)_slots;
            reg.ring_entries = (uint)count;
            reg.bgid = groupId;
            if (UringNative.Register(ring.RingFd, UringNative.IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
            {
                int errno = Libc.LastErrno;
                string call = string.Create(CultureInfo.InvariantCulture,
                    $"io_uring_register(fd={ring.RingFd}, REGISTER_PBUF_RING, bgid={groupId}, entries={count})");
                throw errno switch
                {
                    Errno.EEXIST => new LinuxEventException(errno, call,
                        "Buffer group already registered, or called from a thread other than the ring's SINGLE_ISSUER submitter"),
                    Errno.EINVAL when !ring.Capabilities.ProvidedBufferRing => new LinuxEventUnsupportedException(errno, call,
                        "Provided-buffer rings need Linux 5.19 or later"),
                    _ => new LinuxEventException(errno, call),
                };
            }
        }
        catch
        {
            if (_area != null) NativeMemory.AlignedFree(_area);
            Libc.Munmap(_slots, _slotsSize);
            _area = null;
            _slots = null;
            throw;
        }

        // Initial fill: every buffer goes to the kernel, published with one release store of the tail.
        for (int bid = 0; bid < count; bid++)
            WriteSlot((ushort)bid);
        Volatile.Write(ref *_tailPtr, _tail);
    }

    /// <summary>The buffer group id requests name in <c>sqe-&gt;buf_group</c>.</summary>
    public ushort GroupId { get; }

    /// <summary>Number of buffers (a power of two).</summary>
    public int Count { get; }

    /// <summary>Size of each buffer in bytes (the most one completion can deliver).</summary>
    public int BufferSize { get; }

    /// <summary>Buffers currently owned by the consumer (taken and not yet recycled).</summary>
    public int ConsumerOwnedCount => _consumerOwnedCount;

    /// <summary>
    /// Records that the buffer named by a CQE's flags now belongs to the consumer and returns its id.
    /// </summary>
    /// <exception cref="ArgumentException">The flags lack IORING_CQE_F_BUFFER, or name a buffer outside this group.</exception>
    /// <exception cref="InvalidOperationException">The buffer is already owned by the consumer (a stale or duplicated CQE).</exception>
    public ushort Take(uint cqeFlags)
    {
        ThrowIfReleased();
        if ((cqeFlags & UringNative.IORING_CQE_F_BUFFER) == 0)
            throw new ArgumentException("The CQE carries no provided buffer (IORING_CQE_F_BUFFER is clear).", nameof(cqeFlags));
        ushort bid = UringCompletion.BufferIdFromFlags(cqeFlags);
        CheckId(bid);
        if (_consumerOwned[bid])
            throw new InvalidOperationException($"Buffer {bid} of group {GroupId} is already owned by the consumer.");
        _consumerOwned[bid] = true;
        _consumerOwnedCount++;
        return bid;
    }

    /// <summary>The first <paramref name="length"/> bytes of buffer <paramref name="bid"/>, which the consumer
    /// must own (see <see cref="Take"/>). Valid until <see cref="Recycle"/>.</summary>
    public Span<byte> GetBuffer(ushort bid, int length)
    {
        ThrowIfReleased();
        CheckId(bid);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, BufferSize);
        if (!_consumerOwned[bid])
            throw new InvalidOperationException($"Buffer {bid} of group {GroupId} belongs to the kernel; Take it from its CQE first.");
        return new Span<byte>(_area + (nuint)bid * (nuint)BufferSize, length);
    }

    /// <summary>
    /// Gives buffer <paramref name="bid"/> back to the kernel: writes it into the next ring slot and publishes the
    /// tail with a release store (the kernel reads the tail with an acquire load before reading the slot).
    /// </summary>
    /// <exception cref="InvalidOperationException">The buffer is not owned by the consumer (double recycle).</exception>
    public void Recycle(ushort bid)
    {
        ThrowIfReleased();
        CheckId(bid);
        if (!_consumerOwned[bid])
            throw new InvalidOperationException($"Buffer {bid} of group {GroupId} is already owned by the kernel (recycled twice?).");
        _consumerOwned[bid] = false;
        _consumerOwnedCount--;
        WriteSlot(bid);
        Volatile.Write(ref *_tailPtr, _tail);
    }

    /// <summary>Unregisters the group (IORING_UNREGISTER_PBUF_RING) and frees the ring and buffer memory;
    /// idempotent. Must run on the ring's submitter thread while the ring is open.</summary>
    public void Dispose()
    {
        if (_released)
            return;
        if (!_ring.IsDisposed)
        {
            IoUringBufReg reg = default;
            reg.bgid = GroupId;
            if (UringNative.Register(_ring.RingFd, UringNative.IORING_UNREGISTER_PBUF_RING, &reg, 1) < 0)
            {
                // Leave the memory allocated: the kernel still references it. Closing the ring releases it later.
                throw new LinuxEventException(Libc.LastErrno, string.Create(CultureInfo.InvariantCulture,
                    $"io_uring_register(fd={_ring.RingFd}, UNREGISTER_PBUF_RING, bgid={GroupId})"),
                    "Unregistering must happen on the ring's submitter thread");
            }
            _ring.Forget(this);
        }
        Release();
    }

    /// <summary>Called by <see cref="UringRing.Dispose"/> after the ring fd is closed (the kernel dropped the
    /// registration with the ring).</summary>
    internal void ReleaseAfterRingClosed() => Release();

    private void Release()
    {
        if (_released)
            return;
        _released = true;
        if (_area != null) NativeMemory.AlignedFree(_area);
        if (_slots != null) Libc.Munmap(_slots, _slotsSize);
        _area = null;
        _slots = null;
    }

    private void WriteSlot(ushort bid)
    {
        // Write addr/len/bid only: slot 0's resv field is the ring tail.
        IoUringBuf* slot = _slots + (_tail & _mask);
        slot->addr = (ulong)(_area + (nuint)bid * (nuint)BufferSize);
        slot->len = (uint)BufferSize;
        slot->bid = bid;
        _tail++;
    }

    private void CheckId(ushort bid)
    {
        if (bid >= Count)
            throw new ArgumentOutOfRangeException(nameof(bid), bid, $"Buffer group {GroupId} has {Count} buffers.");
    }

    private void ThrowIfReleased()
    {
        if (_released)
            throw new ObjectDisposedException(nameof(UringBufferRing));
    }
}
