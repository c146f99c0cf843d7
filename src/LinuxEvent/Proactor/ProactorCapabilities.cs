namespace LinuxEvent;

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
