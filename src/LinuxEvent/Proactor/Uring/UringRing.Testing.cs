using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

// The one door to io_uring_enter, with a test seam: the kernel answers EAGAIN or EBUSY only under memory pressure or a
// CQ backlog on old kernels, which a test cannot provoke on demand, so a test can make the next enters fail that way.
internal sealed unsafe partial class UringRing
{
    private int _injectedErrno, _injectedCount;

    /// <summary>Test seam: the next <paramref name="count"/> io_uring_enter calls fail with <paramref name="errno"/>
    /// without reaching the kernel (nothing is submitted, nothing is waited for), as a busy kernel answers.</summary>
    internal void InjectEnterErrorForTesting(int errno, int count)
    {
        _injectedErrno = errno;
        _injectedCount = count;
    }

    private int SysEnter(uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize)
    {
        if (_injectedCount > 0)
        {
            _injectedCount--;
            Marshal.SetLastPInvokeError(_injectedErrno);
            return -1;
        }
        return UringNative.Enter(_ringFd, toSubmit, minComplete, flags, arg, argSize);
    }
}
