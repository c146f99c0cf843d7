using LinuxEvent.Native;
using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Proactor;

// Zero-copy send (ProactorOptions.ZeroCopySendThreshold): a Send of at least the threshold is submitted as
// IORING_OP_SEND_ZC (Linux 6.0; checked with the opcode probe, plain SEND otherwise). The kernel then posts two CQEs with
// the request's user_data: the result (bytes sent or -errno) carrying IORING_CQE_F_MORE, and, once the network stack has
// released the pages (for TCP: the data was acknowledged, or copied for a local peer), a notification carrying
// IORING_CQE_F_NOTIF. Until the notification the kernel may still read the buffer (a retransmission reads it again), so
// the operation settles, and its pin is released, only when both have arrived: completion keeps meaning "the buffer is
// yours again", which is what LoopStream's write queue and every awaited SendAsync rely on. A result without F_MORE
// (no notification will follow) settles at once. A socket that does not do zero copy (AF_UNIX: -EOPNOTSUPP) gets the
// same bytes through a plain SEND, resubmitted under the same user_data once the notification has arrived.
internal sealed unsafe partial class UringProactorBackend
{
    private int _zeroCopyThreshold;

    /// <summary>Sends submitted as SEND_ZC, notifications received, and SEND_ZC refusals retried as SEND.</summary>
    internal long ZeroCopySends { get; private set; }

    /// <inheritdoc cref="ZeroCopySends"/>
    internal long ZeroCopyNotifications { get; private set; }

    /// <inheritdoc cref="ZeroCopySends"/>
    internal long ZeroCopyFallbacks { get; private set; }

    /// <summary>The threshold in effect (0: off, or the kernel has no IORING_OP_SEND_ZC).</summary>
    internal int ZeroCopySendThreshold => _zeroCopyThreshold;

    private void InitZeroCopy(UringCapabilities caps, bool known, int threshold)
        => _zeroCopyThreshold = threshold > 0 && known && caps.Supports(UringNative.IORING_OP_SEND_ZC) ? threshold : 0;

    /// <summary>Test seam: behave as if the probe had not reported IORING_OP_SEND_ZC.</summary>
    internal void DisableZeroCopyForTesting() => _zeroCopyThreshold = 0;

    private void PrepSend(IoUringSqe* sqe, Operation op, ulong ud)
    {
        op.ZeroCopySeen = 0;
        // MSG_NOSIGNAL: a peer that closed gives -EPIPE instead of a process-killing SIGPIPE.
        if (_zeroCopyThreshold > 0 && op.Length >= _zeroCopyThreshold)
        {
            op.ZeroCopy = true;
            UringPrep.SendZc(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, Libc.MSG_NOSIGNAL, ud);
            ZeroCopySends++;
        }
        else
        {
            op.ZeroCopy = false;
            UringPrep.Send(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, Libc.MSG_NOSIGNAL, ud);
        }
    }

    /// <summary>A CQE of a SEND_ZC: the result or the notification, in either order.</summary>
    private void DispatchSendZc(Operation op, ulong userData, int res, uint flags)
    {
        if ((flags & UringNative.IORING_CQE_F_NOTIF) != 0)
        {
            ZeroCopyNotifications++;
            op.ZeroCopySeen |= Operation.ZeroCopyNotifSeen;
        }
        else
        {
            op.ZeroCopyResult = res;
            op.ZeroCopySeen |= Operation.ZeroCopyResultSeen;
            if ((flags & UringNative.IORING_CQE_F_MORE) == 0) op.ZeroCopySeen |= Operation.ZeroCopyNotifSeen;  // none will come
        }
        if (op.ZeroCopySeen != (Operation.ZeroCopyResultSeen | Operation.ZeroCopyNotifSeen)) return;
        res = op.ZeroCopyResult;
        // The socket cannot send zero-copy: the same request as a plain SEND. Not for a request with a linked timeout or
        // in a chain, whose links the kernel has already ended: those report the error.
        if (res == -Errno.EOPNOTSUPP && !op.CancelRequested && !Is(State.Draining) && op.LinkTimeoutNs < 0
            && op.ChainNext is null && op.ChainPrevious is null)
        {
            try
            {
                IoUringSqe* sqe = NextSqe("ProactorLoop.Send (SEND_ZC refused: plain SEND)");
                op.ZeroCopy = false;
                UringPrep.Send(sqe, op.Fd, (byte*)op.Pin.Pointer, (uint)op.Length, Libc.MSG_NOSIGNAL, userData);
                if (op.FixedFile >= 0)
                {
                    sqe->fd = op.FixedFile;
                    sqe->flags |= UringNative.IOSQE_FIXED_FILE;
                }
                ZeroCopyFallbacks++;
                return;
            }
            catch (LinuxEventException ex)
            {
                res = -ex.Errno;
            }
        }
        SettleFinal(op, res);
    }
}
