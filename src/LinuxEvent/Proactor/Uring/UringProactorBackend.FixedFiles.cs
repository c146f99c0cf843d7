using LinuxEvent.Native;

namespace LinuxEvent.Proactor;

// The registered file table for LoopFd (ProactorOptions.RegisteredFileSlots): a sparse table registered once, then one
// IORING_REGISTER_FILES_UPDATE per LoopFd registration and one per disposal. A request on a registered fd names the
// table index with IOSQE_FIXED_FILE, which saves the fget/fput pair (and, for a multi-threaded process, the fd table's
// atomic reference count) on every request. The table holds its own reference to each file: the entry must be cleared
// before the fd is closed, or the socket would stay open (no EOF for the peer) until the ring goes.
internal sealed unsafe partial class UringProactorBackend
{
    private int _fixedCapacity;
    private bool _fixedRegistered, _fixedFailed;
    private Stack<int>? _fixedFree;

    /// <summary>Set by the constructor from <see cref="ProactorOptions.RegisteredFileSlots"/>.</summary>
    internal int FixedFileCapacity { set => _fixedCapacity = value; }

    /// <summary>Whether the table is in use (registered with the kernel).</summary>
    internal bool FixedFilesActive => _fixedRegistered;

    public override int RegisterFile(int fd)
    {
        if (_fixedCapacity == 0 || _fixedFailed || Is(State.Abandoned) || Is(State.Disposed)) return -1;
        // io_uring_register from a task other than a SINGLE_ISSUER ring's submitter fails with EEXIST, and binding the
        // ring here could bind it to a setup thread that will not run the loop: only the owner registers.
        if (!_ring.IsOwnerThread) return -1;
        if (!_fixedRegistered && !RegisterTable()) return -1;
        if (_fixedFree!.Count == 0) return -1;             // full: this fd uses its number, as without the table
        int slot = _fixedFree.Pop();
        if (!Update(slot, fd))
        {
            _fixedFree.Push(slot);
            return -1;
        }
        return slot;
    }

    public override void UnregisterFile(int slot)
    {
        if (slot < 0 || !_fixedRegistered || Is(State.Disposed)) return;
        // Requests in flight keep their own reference to the file (io_uring's resource nodes), so clearing the entry
        // now is safe; it drops the table's reference, so the close that follows really closes the file.
        Update(slot, -1);
        _fixedFree!.Push(slot);
    }

    private bool RegisterTable()
    {
        var fds = new int[_fixedCapacity];
        Array.Fill(fds, -1);                               // sparse: -1 entries are empty slots
        fixed (int* p = fds)
        {
            if (UringNative.Register(_ring.RingFd, UringNative.IORING_REGISTER_FILES, p, (uint)fds.Length) < 0)
            {
                _fixedFailed = true;                       // e.g. an old kernel without sparse tables: plain fds from now on
                return false;
            }
        }
        _fixedFree = new Stack<int>(_fixedCapacity);
        for (int i = _fixedCapacity - 1; i >= 0; i--) _fixedFree.Push(i);
        _fixedRegistered = true;
        return true;
    }

    private bool Update(int slot, int fd)
    {
        int value = fd;
        var update = new IoUringFilesUpdate { offset = (uint)slot, fds = (ulong)&value };
        return UringNative.Register(_ring.RingFd, IoUringFilesUpdate.RegisterOpcode, &update, 1) == 1;
    }
}
