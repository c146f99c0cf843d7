namespace LinuxEvent.Proactor;

/// <summary>
/// The one provided-buffer ring per proactor loop that its socket stream channels receive into
/// (<see cref="StreamReceiveMode.SharedBufferRing"/>): each channel keeps one multishot receive armed on it, the kernel
/// takes a buffer only when data arrives, and the loop gives it back right after the channel delivered it. So an idle
/// connection pins no memory, and the ring (count × size bytes) is a per-loop cost.
/// </summary>
/// <remarks>
/// Created on first use, on the loop thread: registering a ring is an io_uring_register call, which a SINGLE_ISSUER ring
/// accepts only from the thread that drives it (<see cref="ProactorBackendBase.MayRegisterNow"/>); a stream that starts
/// reading before the loop first ran waits for the loop's deferred phase. If the kernel refuses the registration in
/// <see cref="StreamReceiveMode.Auto"/> mode, the loop's streams fall back to one receive per stream for good.
/// </remarks>
internal sealed class StreamReceiveRing(ProactorBackendBase backend, StreamReceiveMode mode, int count, int size)
{
    /// <summary>What a channel should do to receive.</summary>
    internal enum Answer : byte
    {
        /// <summary>Receive per stream (mode, kernel, or a failed registration).</summary>
        PerStream,
        /// <summary><see cref="Pool"/> is ready: arm a multishot receive on it.</summary>
        Ready,
        /// <summary>Ask again from the loop's deferred phase (this thread may not register the ring).</summary>
        Later,
        /// <summary>The ring was asked for explicitly and could not be registered (<see cref="Error"/>).</summary>
        Failed,
    }

    private readonly bool _enabled = mode switch
    {
        StreamReceiveMode.SharedBufferRing => true,
        StreamReceiveMode.Auto => backend.SupportsSharedReceiveRing && backend is not FakeProactorBackend,
        _ => false,
    };

    private LinuxEventException? _error;

    /// <summary>Test seam: the next registration fails with this errno (0: no failure injected).</summary>
    internal int FailRegistrationForTesting { get; set; }

    /// <summary>The ring, once registered.</summary>
    internal ProvidedBufferPool? Pool { get; private set; }

    /// <summary>Why an explicitly requested ring could not be registered.</summary>
    internal LinuxEventException? Error => _error;

    /// <summary>Bytes per buffer: the most one chunk delivers.</summary>
    internal int BufferSize => size;

    /// <summary>Where a socket stream channel that starts reading now should receive.</summary>
    internal Answer Ask()
    {
        if (Pool is not null) return Answer.Ready;
        if (!_enabled) return Answer.PerStream;
        if (_error is not null) return mode == StreamReceiveMode.SharedBufferRing ? Answer.Failed : Answer.PerStream;
        if (!backend.MayRegisterNow) return Answer.Later;
        try
        {
            if (FailRegistrationForTesting != 0) throw new LinuxEventException(FailRegistrationForTesting, "io_uring_register(PBUF_RING)", "Injected by a test.");
            Pool = backend.CreateBufferPool(count, size);
            return Answer.Ready;
        }
        catch (Exception ex) when (ex is LinuxEventException or OutOfMemoryException)
        {
            // No memory for the area, a kernel that refuses the group: remembered, so the loop asks only once.
            _error = ex as LinuxEventException ?? new LinuxEventException(Errno.ENOMEM, "ProactorLoop stream receive ring", ex.Message);
            return mode == StreamReceiveMode.SharedBufferRing ? Answer.Failed : Answer.PerStream;
        }
    }
}
