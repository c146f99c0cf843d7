namespace LinuxEvent;

/// <summary>Options for <see cref="Loop.CreateProactor(ProactorOptions?)"/>.</summary>
public sealed class ProactorOptions
{
    /// <summary>The completion backend. Default <see cref="ProactorBackend.Uring"/>.</summary>
    public ProactorBackend Backend { get; init; } = ProactorBackend.Uring;

    /// <summary>Submission queue entries (rounded up to a power of two by the kernel). Default 256, range 1..32768.</summary>
    public int QueueDepth { get; init; } = 256;

    /// <summary>Completion queue entries; 0 means the kernel default (twice <see cref="QueueDepth"/>).</summary>
    public int CompletionQueueDepth { get; init; }

    /// <summary>
    /// <see cref="ProactorBackend.Fake"/> only: the virtual clock. Loops given the same <see cref="LinuxEvent.FakeClock"/>
    /// share one time (a simulated server and its clients). Null (the default): the loop gets its own clock at 1 s.
    /// Ignored by io_uring.
    /// </summary>
    public FakeClock? FakeClock { get; init; }
}
