namespace LinuxEvent;

public abstract partial class Loop
{
    /// <summary>
    /// Creates the model's <see cref="StreamChannel"/> over <paramref name="fd"/>, a connected non-blocking fd. Nothing
    /// is read until <see cref="StreamChannel.SetReading"/>; writing may begin at once. The fd is not owned: the
    /// channel closes it only when its owner asks (<see cref="StreamChannel.Close"/>).
    /// </summary>
    /// <param name="fd">A connected, non-blocking socket, pipe or tty.</param>
    /// <param name="handler">Receives the channel's events (from dispatch only).</param>
    /// <param name="isSocket">True for a socket (recv/send), false for a pipe or tty (read/write).</param>
    /// <param name="receiveBufferSize">The most bytes one delivery carries (1..16 MiB). No buffer of this size is kept
    /// per channel, except by the proactor's per-stream receives (pipes, ttys, kernels without provided-buffer rings).</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative fd or buffer size out of range.</exception>
    public StreamChannel CreateStreamChannel(int fd, IStreamChannelHandler handler, bool isSocket, int receiveBufferSize)
    {
        const string call = "Loop.CreateStreamChannel";
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        ArgumentNullException.ThrowIfNull(handler);
        if (receiveBufferSize is < 1 or > 16 << 20)
            throw new ArgumentOutOfRangeException(nameof(receiveBufferSize), receiveBufferSize, $"{call}: the receive buffer size must be in 1..16777216.");
        CheckThread(call);
        return Driver.CreateStreamChannel(fd, handler, isSocket, receiveBufferSize);
    }

    /// <summary>
    /// Creates the model's <see cref="AcceptChannel"/> over <paramref name="fd"/>, a listening non-blocking socket.
    /// Nothing is accepted until <see cref="AcceptChannel.SetAccepting"/>. The socket stays the caller's.
    /// </summary>
    /// <param name="fd">A listening, non-blocking socket.</param>
    /// <param name="handler">Receives accepted connections and errors (from dispatch only).</param>
    /// <param name="maxPerWake">Most connections accepted per readiness report (reactor), at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative fd or <paramref name="maxPerWake"/> below 1.</exception>
    public AcceptChannel CreateAcceptChannel(int fd, IAcceptChannelHandler handler, int maxPerWake = 64)
        => CreateAcceptChannel(fd, handler, maxPerWake, exclusiveWakeup: false);

    /// <summary>
    /// Creates the model's <see cref="AcceptChannel"/> over <paramref name="fd"/>, as
    /// <see cref="CreateAcceptChannel(int, IAcceptChannelHandler, int)"/>; with <paramref name="exclusiveWakeup"/>, for a
    /// listening socket shared by several loops, one incoming connection wakes one loop instead of all of them. Reactor:
    /// the socket is watched with EPOLLEXCLUSIVE (<see cref="WatchOptions.Exclusive"/>). Proactor: nothing to ask,
    /// io_uring's accept already waits as an exclusive waiter.
    /// </summary>
    /// <param name="fd">A listening, non-blocking socket.</param>
    /// <param name="handler">Receives accepted connections and errors (from dispatch only).</param>
    /// <param name="maxPerWake">Most connections accepted per readiness report (reactor), at least 1.</param>
    /// <param name="exclusiveWakeup">Wake one loop per connection when several accept on the socket.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative fd or <paramref name="maxPerWake"/> below 1.</exception>
    public AcceptChannel CreateAcceptChannel(int fd, IAcceptChannelHandler handler, int maxPerWake, bool exclusiveWakeup)
    {
        const string call = "Loop.CreateAcceptChannel";
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerWake, 1);
        CheckThread(call);
        return Driver.CreateAcceptChannel(fd, handler, maxPerWake, exclusiveWakeup);
    }
}
