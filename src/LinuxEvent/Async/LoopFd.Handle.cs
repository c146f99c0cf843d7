using System.Runtime.InteropServices;

namespace LinuxEvent;

public sealed partial class LoopFd
{
    // Set by Loop.RegisterHandle: the handle whose fd is registered, kept alive by a reference for as long as the
    // registration lasts, so a Dispose of the handle elsewhere cannot close the fd under a pending operation.
    private SafeHandle? _handle;
    private bool _ownsHandle;

    /// <summary>The handle this registration keeps alive, if it was registered through one.</summary>
    public SafeHandle? Handle => _handle;

    internal void HoldHandle(SafeHandle handle, bool ownsHandle)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
    }

    /// <summary>Closes what the registration owns, once: the fd by number, or the handle's reference (and the handle
    /// itself when it was handed over).</summary>
    private void CloseOwned()
    {
        if (OwnsFd) Native.Libc.Close(Fd);
        var handle = _handle;
        if (handle is null) return;
        _handle = null;
        handle.DangerousRelease();
        if (_ownsHandle) handle.Dispose();
    }
}
