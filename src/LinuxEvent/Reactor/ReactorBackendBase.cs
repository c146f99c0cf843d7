using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>
/// A readiness backend: the <see cref="LoopBackend"/> contract plus epoll-shaped registration. <see cref="LoopBackend.Wait"/>
/// delivers each user report to <see cref="ReactorIoDriver.Dispatch"/>, after <see cref="Loop.OnWaitReturned"/>.
/// </summary>
internal abstract class ReactorBackendBase(ReactorIoDriver driver) : LoopBackend
{
    /// <summary>The driver reports are dispatched to.</summary>
    protected ReactorIoDriver Driver { get; } = driver;

    /// <summary>Registers/modifies/removes a user fd with epoll_ctl semantics (ADD of a registered fd: EEXIST; MOD or
    /// DEL of an unknown one: ENOENT). Returns 0 or an errno.</summary>
    public abstract int Control(int op, int fd, uint events, ulong data);

    /// <summary>Replaces the kernel's registration set with one rebuilt from the live registrations (drops items nobody
    /// can remove any more; see <see cref="ReactorIoDriver.RebuildRequested"/>). A fake has nothing to rebuild.</summary>
    public virtual void RebuildRegistrations() { }
}
