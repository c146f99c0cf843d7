using LinuxEvent.Async;

namespace LinuxEvent.Seam;

/// <summary>
/// What the loop knows about one fd number used with the async API, kept above the seam so that the rules are the same
/// on both models: at most one pending operation per direction (<see cref="Reader"/>: receive, read, accept;
/// <see cref="Writer"/>: send, write, connect), and the <see cref="LoopFd"/> registration if there is one. The driver
/// creates it (<see cref="IoDriver.CreateFdState"/>) and may extend it with what its model needs per fd. Kept per fd
/// number and reused, so a connection costs no allocation once its number has been seen.
/// </summary>
internal class IoFd(int fd)
{
    /// <summary>The fd number.</summary>
    public readonly int Fd = fd;

    /// <summary>The pending read-side operation, if any.</summary>
    public AsyncOp? Reader;

    /// <summary>The pending write-side operation, if any.</summary>
    public AsyncOp? Writer;

    /// <summary>The registration made by <see cref="Loop.Register"/>, while it lasts.</summary>
    public LoopFd? Registration;

    /// <summary>The pending operation of one side.</summary>
    public AsyncOp? Side(bool reading) => reading ? Reader : Writer;

    /// <summary>Occupies one side with <paramref name="op"/> (the side was free).</summary>
    public void Occupy(AsyncOp op)
    {
        op.Target = this;
        if (op.Reading) Reader = op; else Writer = op;
    }
}
