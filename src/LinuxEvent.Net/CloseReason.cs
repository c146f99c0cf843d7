namespace LinuxEvent.Net;

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
    /// <summary>An I/O error; <see cref="LoopStream.Error"/> carries the errno (<see cref="ILinuxEventError"/>: a
    /// <see cref="LinuxEventSocketException"/> on a socket, a <see cref="LinuxEventException"/> on a pipe).</summary>
    Error,
    /// <summary>The codec rejected the input; <see cref="LoopStream.Error"/> is an <see cref="InvalidDataException"/>.</summary>
    CodecError,
    /// <summary>The loop was disposed while the stream was open (either model).</summary>
    LoopDisposed,
    /// <summary><see cref="LoopStream.Detach"/> or <see cref="LoopStream.DetachAsync"/> handed the fd back, open,
    /// together with the input read ahead.</summary>
    Detached,
    /// <summary>A write would have grown the queue past <see cref="LoopStreamOptions.MaxQueuedBytes"/> (the peer does not
    /// read): the queue was dropped; <see cref="LoopStream.Error"/> is a <see cref="WriteQueueOverflowException"/>.</summary>
    WriteQueueOverflow,
    /// <summary>Nothing was received for <see cref="LoopStreamOptions.IdleTimeout"/> while the stream was reading;
    /// <see cref="LoopStream.Error"/> is a <see cref="TimeoutException"/>, and a pending read fails with it.</summary>
    Timeout,
}
