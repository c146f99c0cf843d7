namespace LinuxEvent.Net;

/// <summary>Options of a <see cref="LoopStream"/>. Immutable (a record: copy and change with <c>options with { ... }</c>).</summary>
public sealed record LoopStreamOptions
{
    /// <summary>Shared defaults.</summary>
    public static LoopStreamOptions Default { get; } = new();

    /// <summary>Whether the stream closes the fd when it closes (default true). With false the caller keeps
    /// ownership and must close the fd after <see cref="LoopStream.OnClose"/> has run.</summary>
    public bool OwnsFd { get; init; } = true;

    /// <summary>How to read and write the fd (default: probe).</summary>
    public StreamFdKind FdKind { get; init; } = StreamFdKind.Auto;

    /// <summary>The most one read delivers (default 16 KiB). No buffer of this size is kept per stream: reads go into the
    /// loop's shared buffer (reactor) or shared ring (proactor), except for the proactor's per-stream receives (pipes,
    /// ttys, kernels without provided-buffer rings), which rent one from the shared array pool while reading.</summary>
    public int ReceiveBufferSize { get; init; } = 16 * 1024;

    /// <summary>Queued output at or above which <see cref="LoopStream.IsWriteBlocked"/> turns true (default 64 KiB).</summary>
    public int HighWatermark { get; init; } = 64 * 1024;

    /// <summary>Queued output at or below which a blocked stream unblocks and <see cref="LoopStream.OnDrain"/> runs (default 16 KiB).</summary>
    public int LowWatermark { get; init; } = 16 * 1024;

    /// <summary>
    /// The hard bound of the write queue (default 16 MiB): a <see cref="LoopStream.Write"/> (or
    /// <see cref="LoopStream.WriteMessage"/>, <see cref="LoopStream.WriteAsync"/>) that would make the bytes not yet taken
    /// by the kernel exceed it is refused, and the stream closes with <see cref="CloseReason.WriteQueueOverflow"/>
    /// (<see cref="LoopStream.OnError"/> gets a <see cref="WriteQueueOverflowException"/>, then
    /// <see cref="LoopStream.OnClose"/> runs): a peer that never reads cannot make the process buffer without limit, and
    /// the loop's other connections are not affected. Writers that respect <see cref="HighWatermark"/> (wait for
    /// <see cref="LoopStream.OnDrain"/>, or await <see cref="LoopStream.WriteAsync"/>) never reach it. Must be at least
    /// <see cref="HighWatermark"/>; a single write larger than it always overflows.
    /// </summary>
    public int MaxQueuedBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// The idle (read) timeout (default <see cref="Timeout.InfiniteTimeSpan"/>: none). While the stream wants input
    /// (callback mode after <see cref="LoopStream.Start"/>, async mode while it reads or reads ahead) and nothing
    /// arrives for this long, it closes with <see cref="CloseReason.Timeout"/> (<see cref="LoopStream.Error"/> is a
    /// <see cref="TimeoutException"/>, which a pending read fails with). Every received chunk starts the period again;
    /// the clock stops while reading is paused (<see cref="LoopStream.PauseRead"/>, async read-ahead full) and after
    /// the peer's EOF, and restarts from zero when reading resumes. One loop timer per stream, pushed back per chunk in
    /// O(1) without allocating. Must be positive, or infinite.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Async mode only: how much unread input the stream buffers ahead of the reader before it stops reading
    /// (default 64 KiB). Reading ahead keeps one receive armed across awaits instead of re-arming per call.</summary>
    public int ReadAheadLimit { get; init; } = 64 * 1024;

    /// <summary>Message mode: splits input into messages for <see cref="LoopStream.OnMessage"/> /
    /// <see cref="LoopStream.ReadMessageAsync"/> and frames <see cref="LoopStream.WriteMessage"/>. Null = byte mode.</summary>
    public IFrameCodec? Codec { get; init; }

    /// <summary>What happens at peer EOF (default <see cref="PeerEndBehavior.CloseAfterDrain"/>).</summary>
    public PeerEndBehavior PeerEnd { get; init; } = PeerEndBehavior.CloseAfterDrain;

    internal void Validate()
    {
        if (ReceiveBufferSize is < 1 or > 16 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferSize), ReceiveBufferSize, "LoopStreamOptions.ReceiveBufferSize must be in 1..16 MiB.");
        if (HighWatermark < 1)
            throw new ArgumentOutOfRangeException(nameof(HighWatermark), HighWatermark, "LoopStreamOptions.HighWatermark must be positive.");
        if (LowWatermark < 0 || LowWatermark >= HighWatermark)
            throw new ArgumentOutOfRangeException(nameof(LowWatermark), LowWatermark, "LoopStreamOptions.LowWatermark must be in 0..HighWatermark-1.");
        if (MaxQueuedBytes < HighWatermark)
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedBytes), MaxQueuedBytes, $"LoopStreamOptions.MaxQueuedBytes must be at least HighWatermark ({HighWatermark}).");
        if (IdleTimeout <= TimeSpan.Zero && IdleTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), IdleTimeout, "LoopStreamOptions.IdleTimeout must be positive, or Timeout.InfiniteTimeSpan (no timeout).");
        if (ReadAheadLimit < 1)
            throw new ArgumentOutOfRangeException(nameof(ReadAheadLimit), ReadAheadLimit, "LoopStreamOptions.ReadAheadLimit must be positive.");
    }
}
