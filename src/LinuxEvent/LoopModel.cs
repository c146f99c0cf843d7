namespace LinuxEvent;

/// <summary>The execution model a <see cref="Loop"/> runs. Always chosen explicitly.</summary>
public enum LoopModel
{
    /// <summary>Readiness-based: the kernel says an fd is ready (epoll); the callback performs the I/O.</summary>
    Reactor,
    /// <summary>Completion-based: the loop submits operations (io_uring) and reports their results.</summary>
    Proactor,
}

/// <summary>Backends of the <see cref="LoopModel.Reactor"/> model.</summary>
public enum ReactorBackend
{
    /// <summary>Linux epoll (the default).</summary>
    Epoll,
    /// <summary>Deterministic in-memory readiness with a virtual clock: tests inject readiness and advance time.</summary>
    Fake,
}

/// <summary>Backends of the <see cref="LoopModel.Proactor"/> model.</summary>
public enum ProactorBackend
{
    /// <summary>Linux io_uring (the default).</summary>
    Uring,
    /// <summary>Deterministic completions scripted by tests, on a virtual clock; no real I/O.</summary>
    Fake,
}

/// <summary>Options for <see cref="Loop.CreateReactor(ReactorOptions?)"/>.</summary>
public sealed class ReactorOptions
{
    /// <summary>The readiness backend. Default <see cref="ReactorBackend.Epoll"/>.</summary>
    public ReactorBackend Backend { get; init; } = ReactorBackend.Epoll;

    /// <summary>How many readiness events one kernel wait may return (default 256, range 1..65536).</summary>
    public int MaxEventsPerWait { get; init; } = 256;
}

/// <summary>Options for <see cref="Loop.CreateProactor(ProactorOptions?)"/>.</summary>
public sealed class ProactorOptions
{
    /// <summary>The completion backend. Default <see cref="ProactorBackend.Uring"/>.</summary>
    public ProactorBackend Backend { get; init; } = ProactorBackend.Uring;

    /// <summary>Submission queue entries (rounded up to a power of two by the kernel). Default 256, range 1..32768.</summary>
    public int QueueDepth { get; init; } = 256;

    /// <summary>Completion queue entries; 0 means the kernel default (twice <see cref="QueueDepth"/>).</summary>
    public int CompletionQueueDepth { get; init; }
}
