using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

internal static unsafe partial class UringPrep
{
    /// <summary>
    /// IORING_OP_LINK_TIMEOUT (5.5): a timeout for the request whose SQE comes right before this one and carries
    /// IOSQE_IO_LINK. If the timer fires first the kernel cancels that request (it completes with -ECANCELED, or -EINTR
    /// from an io-wq worker) and this SQE completes with -ETIME; if the request completes first this SQE completes with
    /// -ECANCELED. The timespec is copied at submission (__io_timeout_prep), like TIMEOUT's.
    /// </summary>
    public static void LinkTimeout(IoUringSqe* sqe, KernelTimespec* ts, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_LINK_TIMEOUT, -1, ts, 1, 0, userData);
        sqe->timeout_flags = flags;
    }
}
