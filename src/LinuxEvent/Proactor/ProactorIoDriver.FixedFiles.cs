using LinuxEvent.Seam;

namespace LinuxEvent.Proactor;

// Registered files for LoopFd: a registration takes a slot of the ring's file table (UringProactorBackend.FixedFiles.cs)
// and the async calls made through it name the slot (IOSQE_FIXED_FILE) instead of the fd number.
internal sealed partial class ProactorIoDriver
{
    public override IoFd CreateFdState(int fd) => new ProactorFd(fd);

    /// <summary>The table slot requests on <paramref name="state"/> use, or -1 for the fd number.</summary>
    private static int FixedSlotOf(IoFd state) => state is ProactorFd { FixedSlot: >= 0 } p && p.Registration is not null ? p.FixedSlot : -1;

    private void RegisterFixedFile(IoFd state)
    {
        if (state is ProactorFd p) p.FixedSlot = Backend.RegisterFile(state.Fd);
    }

    private void UnregisterFixedFile(IoFd state)
    {
        if (state is not ProactorFd { FixedSlot: >= 0 } p) return;
        int slot = p.FixedSlot;
        p.FixedSlot = -1;
        Backend.UnregisterFile(slot);
    }
}
