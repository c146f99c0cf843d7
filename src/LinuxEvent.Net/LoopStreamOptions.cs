namespace LinuxEvent.Net;

/// <summary>What a <see cref="LoopStream"/> does when the peer ends its side (EOF / FIN).</summary>
public enum PeerEndBehavior
{
    /// <summary>Stop reading and close once everything queued so far has been written (the default): replies written
    /// in <see cref="LoopStream.OnEnd"/> still go out. Closes with <see cref="CloseReason.PeerClosed"/>.</summary>
    CloseAfterDrain,
    /// <summary>Keep the stream half-open: writing continues until the owner closes it (or calls
    /// <see cref="LoopStream.ShutdownWrite"/>, after which the stream closes by itself).</summary>
    HalfOpen,
    /// <summary>Close at once, dropping queued writes.</summary>
    CloseImmediately,
}

/// <summary>How a <see cref="LoopStream"/> talks to its fd.</summary>
public enum StreamFdKind
{
    /// <summary>Probe once at construction: a socket uses recv/send, anything else read/write.</summary>
    Auto,
    /// <summary>A connected stream socket: recv(2)/send(2) with MSG_NOSIGNAL (a dead peer gives EPIPE, never SIGPIPE).</summary>
    Socket,
    /// <summary>A pipe, tty or character device: read(2)/write(2).</summary>
    File,
}

/// <summary>Options of a <see cref="LoopStream"/>. Immutable once the stream is created.</summary>
public sealed class LoopStreamOptions
{
    /// <summary>Shared defaults.</summary>
    public static LoopStreamOptions Default { get; } = new();

    /// <summary>Whether the stream closes the fd when it closes (default true). With false the caller keeps
    /// ownership and must close the fd after <see cref="LoopStream.OnClose"/> has run.</summary>
    public bool OwnsFd { get; init; } = true;

    /// <summary>How to read and write the fd (default: probe).</summary>
    public StreamFdKind FdKind { get; init; } = StreamFdKind.Auto;

    /// <summary>Size of the receive buffer rented from the shared array pool (default 16 KiB): the most one read delivers.</summary>
    public int ReceiveBufferSize { get; init; } = 16 * 1024;

    /// <summary>Queued output at or above which <see cref="LoopStream.IsWriteBlocked"/> turns true (default 64 KiB).</summary>
    public int HighWatermark { get; init; } = 64 * 1024;

    /// <summary>Queued output at or below which a blocked stream unblocks and <see cref="LoopStream.OnDrain"/> runs (default 16 KiB).</summary>
    public int LowWatermark { get; init; } = 16 * 1024;

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
        if (ReadAheadLimit < 1)
            throw new ArgumentOutOfRangeException(nameof(ReadAheadLimit), ReadAheadLimit, "LoopStreamOptions.ReadAheadLimit must be positive.");
    }
}

/// <summary>Why a <see cref="LoopStream"/> closed. Reported once, by <see cref="LoopStream.OnClose"/>.</summary>
public enum CloseReason
{
    /// <summary><see cref="LoopStream.Close"/> or <see cref="LoopStream.Dispose"/> (queued writes dropped).</summary>
    Local,
    /// <summary><see cref="LoopStream.CloseAfterDrain"/> completed, or a pipe's <see cref="LoopStream.ShutdownWrite"/>:
    /// everything queued was handed to the kernel.</summary>
    Drained,
    /// <summary>The peer ended the stream and the <see cref="PeerEndBehavior"/> closed it.</summary>
    PeerClosed,
    /// <summary>An I/O error; <see cref="LoopStream.Error"/> is a <see cref="LinuxEventException"/> with the errno.</summary>
    Error,
    /// <summary>The codec rejected the input; <see cref="LoopStream.Error"/> is an <see cref="InvalidDataException"/>.</summary>
    CodecError,
    /// <summary>The loop was disposed while the stream was open (either model).</summary>
    LoopDisposed,
}
