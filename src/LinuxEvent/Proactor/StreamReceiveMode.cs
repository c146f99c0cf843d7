namespace LinuxEvent;

/// <summary>How the stream channels of a <see cref="ProactorLoop"/> (<see cref="Loop.CreateStreamChannel"/>, and so
/// every <c>LoopStream</c>) receive on sockets. Pipes and ttys always use one read per stream.</summary>
public enum StreamReceiveMode
{
    /// <summary><see cref="SharedBufferRing"/> where the kernel supports it (io_uring provided-buffer rings and multishot
    /// recv, Linux 6.0), <see cref="PerStreamBuffer"/> otherwise and on the Fake backend (whose tests script one
    /// receive per stream).</summary>
    Auto,

    /// <summary>One loop-wide ring of provided buffers (<see cref="ProactorOptions.StreamBufferCount"/> ×
    /// <see cref="ProactorOptions.StreamBufferSize"/> bytes) that every stream's multishot receive takes from when data
    /// arrives, and gives back right after delivery: an idle connection pins no buffer. Loop creation fails with
    /// <see cref="LinuxEventUnsupportedException"/> on a kernel without it.</summary>
    SharedBufferRing,

    /// <summary>One receive in flight per stream into the stream's own buffer of
    /// <c>receiveBufferSize</c> bytes, rented while reading is on and pinned while the receive is in flight.</summary>
    PerStreamBuffer,
}
