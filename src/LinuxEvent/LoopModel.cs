namespace LinuxEvent;

/// <summary>The execution model a <see cref="Loop"/> runs. Always chosen explicitly.</summary>
public enum LoopModel
{
    /// <summary>Readiness-based: the kernel says an fd is ready (epoll); the callback performs the I/O.</summary>
    Reactor,
    /// <summary>Completion-based: the loop submits operations (io_uring) and reports their results.</summary>
    Proactor,
}
