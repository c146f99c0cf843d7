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
        IsDisposed = true;
        Storage.Dispose();
    }
}

/// <summary>An immutable snapshot of what the kernel's io_uring supports, taken when the ring was created.</summary>
public sealed class ProactorCapabilities
{
    private readonly bool[] _ops;

    internal ProactorCapabilities(uint features, uint setupFlags, bool[] supportedOpcodes, uint sqEntries, uint cqEntries, string summary)
    {
        Features = features;
        SetupFlags = setupFlags;
        _ops = supportedOpcodes;
        SubmissionQueueEntries = sqEntries;
        CompletionQueueEntries = cqEntries;
        _summary = summary;
    }

    private readonly string _summary;

    /// <summary>IORING_FEAT_* bits reported by io_uring_setup.</summary>
    public uint Features { get; }
    /// <summary>IORING_SETUP_* flags the ring was created with (after stepping down for older kernels).</summary>
    public uint SetupFlags { get; }
    /// <summary>SQ entries.</summary>
    public uint SubmissionQueueEntries { get; }
    /// <summary>CQ entries.</summary>
    public uint CompletionQueueEntries { get; }

    /// <summary>Whether the kernel supports opcode <paramref name="opcode"/> (IORING_OP_*), from IORING_REGISTER_PROBE.</summary>
    public bool Supports(int opcode) => (uint)opcode < (uint)_ops.Length && _ops[opcode];

    /// <inheritdoc />
    public override string ToString() => _summary;
}
