namespace LinuxEvent.AspNetCore;

/// <summary>Options of the LinuxEvent Kestrel transport (<c>builder.WebHost.UseLinuxEvent(options => ...)</c>, or
/// <c>services.AddLinuxEventTransport(options => ...)</c>).</summary>
public sealed class LinuxEventTransportOptions
{
    /// <summary>The model of every loop (default <see cref="LoopModel.Reactor"/>: epoll works on every kernel;
    /// <see cref="LoopModel.Proactor"/> needs io_uring, which a kernel or container may disable).</summary>
    public LoopModel Model { get; set; } = LoopModel.Reactor;

    /// <summary>Number of loops, each on its own thread, each with its own SO_REUSEPORT listener per endpoint
    /// (default <see cref="Environment.ProcessorCount"/>). The kernel spreads incoming connections across them; a
    /// connection stays on the loop that accepted it.</summary>
    public int LoopCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Pin loop i's thread to CPU i (default false).</summary>
    public bool PinLoopThreads { get; set; }

    /// <summary>
    /// Run the application's continuations (Kestrel's request processing and the app's code up to its first real
    /// await) inline on the loop thread that received the bytes, instead of on the thread pool (default false). The
    /// fewest thread hops, hence the highest throughput; but code that blocks then stalls every connection of that
    /// loop. The name and meaning follow Kestrel's own sockets transport option.
    /// </summary>
    public bool UnsafePreferInlineScheduling { get; set; }

    /// <summary>Bytes per receive from the kernel (default 16 KiB).</summary>
    public int ReceiveBufferSize { get; set; } = 16 * 1024;

    /// <summary>Unread input per connection at which the loop stops reading it (default 1 MiB, as Kestrel's sockets
    /// transport).</summary>
    public long MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Unsent output per connection at which the application's flush waits (default 64 KiB, as Kestrel's
    /// sockets transport).</summary>
    public long MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>TCP_NODELAY on accepted connections (default true).</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>listen(2) backlog per loop (default 512).</summary>
    public int Backlog { get; set; } = 512;

    internal void Validate()
    {
        if (LoopCount is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(LoopCount), LoopCount, "LinuxEventTransportOptions.LoopCount must be in 1..1024.");
        if (ReceiveBufferSize is < 1 or > 16 * 1024 * 1024) throw new ArgumentOutOfRangeException(nameof(ReceiveBufferSize), ReceiveBufferSize, "LinuxEventTransportOptions.ReceiveBufferSize must be in 1..16 MiB.");
        if (MaxReadBufferSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxReadBufferSize), MaxReadBufferSize, "LinuxEventTransportOptions.MaxReadBufferSize must be positive.");
        if (MaxWriteBufferSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxWriteBufferSize), MaxWriteBufferSize, "LinuxEventTransportOptions.MaxWriteBufferSize must be positive.");
        if (Backlog < 0) throw new ArgumentOutOfRangeException(nameof(Backlog), Backlog, "LinuxEventTransportOptions.Backlog must not be negative.");
    }
}
