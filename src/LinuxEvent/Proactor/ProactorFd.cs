using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

/// <summary>The proactor's per-fd state: the registered file table index of a <see cref="LoopFd"/>, if it has one.</summary>
internal sealed class ProactorFd(int fd) : IoFd(fd)
{
    /// <summary>Index in the ring's registered file table while registered through a <see cref="LoopFd"/>, else -1.</summary>
    public int FixedSlot = -1;
}
