namespace LinuxEvent.Net;

/// <summary>
/// A <see cref="LoopStream"/> closed because a write would have grown its queue past
/// <see cref="LoopStreamOptions.MaxQueuedBytes"/>: the peer does not read (or reads far slower than the stream is
/// written). Reported by <see cref="LoopStream.OnError"/> and <see cref="LoopStream.Error"/>; the stream closes with
/// <see cref="CloseReason.WriteQueueOverflow"/>.
/// </summary>
public sealed class WriteQueueOverflowException : IOException
{
    /// <summary>Creates the exception for a stream on <paramref name="fd"/>.</summary>
    public WriteQueueOverflowException(int fd, int queuedBytes, int writeBytes, int maxQueuedBytes)
        : base($"LoopStream(fd={fd}): writing {writeBytes} bytes to {queuedBytes} queued ones would exceed LoopStreamOptions.MaxQueuedBytes ({maxQueuedBytes}); the peer is not reading fast enough, so the stream was closed.")
    {
        Fd = fd;
        QueuedBytes = queuedBytes;
        WriteBytes = writeBytes;
        MaxQueuedBytes = maxQueuedBytes;
    }

    /// <summary>The stream's fd (closed by now if the stream owned it).</summary>
    public int Fd { get; }

    /// <summary>Bytes the kernel had not taken yet when the write came.</summary>
    public int QueuedBytes { get; }

    /// <summary>The size of the refused write (the framed size for <see cref="LoopStream.WriteMessage"/>).</summary>
    public int WriteBytes { get; }

    /// <summary>The stream's <see cref="LoopStreamOptions.MaxQueuedBytes"/>.</summary>
    public int MaxQueuedBytes { get; }
}
