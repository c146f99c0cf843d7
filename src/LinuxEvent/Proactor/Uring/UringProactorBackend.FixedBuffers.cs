using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

// Registered file buffers (ProactorLoop.RegisterFileBuffers): an AlignedBufferPool's buffers become the ring's buffer
// table (IORING_REGISTER_BUFFERS, one iovec per pool buffer, so buffer i is table index i). A Read or Write whose pinned
// memory lies inside one of them is submitted as READ_FIXED/WRITE_FIXED with that index: the kernel skips the per-request
// page pinning (get_user_pages) it does for a plain O_DIRECT READ. Memory outside the pool uses READ/WRITE as before.
// Ownership: the ring. The pool's block is held (AlignedBufferPool.AddHold) from the registration until the ring is
// closed by the loop's disposal, which drops the kernel's table with it; only then is the hold released, so disposing the
// pool first cannot free memory the kernel still has pinned. An abandoned ring (disposal could not drain) keeps the hold.
internal sealed unsafe partial class UringProactorBackend
{
    /// <summary>The kernel's limit on registered buffers (IORING_MAX_REG_BUFFERS).</summary>
    private const int MaxRegisteredBuffers = 1 << 14;

    private AlignedBufferPool? _fileBufferPool;
    private byte* _fileBufferBase;
    private long _fileBufferTotal;
    private int _fileBufferSize;

    /// <summary>Reads and writes submitted as READ_FIXED/WRITE_FIXED: for tests and the benchmark.</summary>
    internal long FixedBufferRequests { get; private set; }

    /// <summary>Whether a pool is registered.</summary>
    internal bool FileBuffersActive => _fileBufferPool is not null;

    public override void RegisterFileBuffers(AlignedBufferPool pool)
    {
        const string Call = "ProactorLoop.RegisterFileBuffers";
        ArgumentNullException.ThrowIfNull(pool);
        if (Is(State.Disposed) || Is(State.Draining)) throw new ObjectDisposedException(nameof(ProactorLoop));
        if (_fileBufferPool is not null)
            throw new InvalidOperationException($"{Call}: this loop already has a registered buffer pool (io_uring has one buffer table per ring; it is released when the loop is disposed).");
        if (pool.BufferCount > MaxRegisteredBuffers)
            throw new ArgumentOutOfRangeException(nameof(pool), pool.BufferCount, $"{Call}: io_uring registers at most {MaxRegisteredBuffers} buffers; this pool has {pool.BufferCount}.");
        pool.AddHold(1);                    // before reading the address: a disposed, idle pool has no memory
        byte* baseAddress = pool.BaseAddress;
        if (baseAddress is null)
        {
            pool.AddHold(-1);
            throw new ObjectDisposedException(nameof(AlignedBufferPool), $"{Call}: the pool is disposed.");
        }
        EnsureKernelAccess(Call);           // io_uring_register on a SINGLE_ISSUER ring: the owner thread only (binds it if none)
        var iov = (IoVec*)NativeMemory.Alloc((nuint)pool.BufferCount, (nuint)sizeof(IoVec));
        int rc;
        try
        {
            for (int i = 0; i < pool.BufferCount; i++)
            {
                iov[i].iov_base = baseAddress + (long)i * pool.BufferSize;
                iov[i].iov_len = (nuint)pool.BufferSize;
            }
            rc = UringNative.Register(_ring.RingFd, UringNative.IORING_REGISTER_BUFFERS, iov, (uint)pool.BufferCount);
        }
        finally
        {
            NativeMemory.Free(iov);         // the kernel copies the iovecs (and pins the pages) during the call
        }
        if (rc < 0)
        {
            pool.AddHold(-1);
            string hint = -rc == Errno.ENOMEM
                ? " The pages are pinned and charged to RLIMIT_MEMLOCK (ulimit -l); raise it or register a smaller pool."
                : "";
            throw new LinuxEventException(-rc, $"io_uring_register(IORING_REGISTER_BUFFERS, count={pool.BufferCount}, size={pool.BufferSize})",
                $"{Call} could not register the pool.{hint}");
        }
        _fileBufferPool = pool;
        _fileBufferBase = baseAddress;
        _fileBufferSize = pool.BufferSize;
        _fileBufferTotal = (long)pool.BufferSize * pool.BufferCount;
    }

    /// <summary>The table index of the registered buffer holding all of [p, p + length), or -1.</summary>
    private int FixedBufferIndex(byte* p, int length)
    {
        if (_fileBufferBase is null) return -1;
        long offset = p - _fileBufferBase;
        if (offset < 0 || offset >= _fileBufferTotal) return -1;
        long index = offset / _fileBufferSize;
        return offset + length <= (index + 1) * _fileBufferSize ? (int)index : -1;
    }

    private void PrepRead(IoUringSqe* sqe, Operation op, ulong ud)
    {
        var p = (byte*)op.Pin.Pointer;
        int index = FixedBufferIndex(p, op.Length);
        if (index < 0) UringPrep.Read(sqe, op.Fd, p, (uint)op.Length, OffsetOf(op.Offset), ud);
        else
        {
            UringPrep.ReadFixed(sqe, op.Fd, p, (uint)op.Length, OffsetOf(op.Offset), (ushort)index, ud);
            FixedBufferRequests++;
        }
    }

    private void PrepWrite(IoUringSqe* sqe, Operation op, ulong ud)
    {
        var p = (byte*)op.Pin.Pointer;
        int index = FixedBufferIndex(p, op.Length);
        if (index < 0) UringPrep.Write(sqe, op.Fd, p, (uint)op.Length, OffsetOf(op.Offset), ud);
        else
        {
            UringPrep.WriteFixed(sqe, op.Fd, p, (uint)op.Length, OffsetOf(op.Offset), (ushort)index, ud);
            FixedBufferRequests++;
        }
    }

    /// <summary>After the ring is closed (which dropped the buffer table): releases the hold on the pool's memory.</summary>
    private void ReleaseFileBuffers()
    {
        var pool = _fileBufferPool;
        if (pool is null) return;
        _fileBufferPool = null;
        _fileBufferBase = null;
        pool.AddHold(-1);
    }
}
