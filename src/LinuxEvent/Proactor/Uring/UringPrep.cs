using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

/// <summary>
/// Fills submission queue entries. Every helper expects a <em>zeroed</em> SQE as handed out by
/// <see cref="UringRing.TryGetSqe"/> (only the fields an opcode uses are written; the kernel rejects requests
/// whose unused fields are not zero), sets the opcode's fields and <c>user_data</c>, and nothing else. The caller
/// may OR extra IOSQE_* flags into <c>sqe-&gt;flags</c> afterwards.
/// <para>
/// Memory contract: pointers stored in an SQE (buffers, sockaddrs, addrlen) must stay valid and pinned until the
/// request's final CQE (the one without IORING_CQE_F_MORE) has been reaped. The kernel reads the timespec of
/// TIMEOUT and the sockaddr of CONNECT while the SQE is submitted (prep copies them; IORING_FEAT_SUBMIT_STABLE),
/// so those need only outlive the <see cref="UringRing.Enter"/> call that submits them.
/// </para>
/// </summary>
internal static unsafe partial class UringPrep
{
    /// <summary>Offset value meaning "use and advance the file position" (IORING_FEAT_RW_CUR_POS); also the
    /// right value for pipes and sockets, which ignore offsets.</summary>
    public const ulong CurrentPosition = ulong.MaxValue;

    private static void Rw(IoUringSqe* sqe, byte opcode, int fd, void* addr, uint len, ulong offset, ulong userData)
    {
        sqe->opcode = opcode;
        sqe->fd = fd;
        sqe->addr = (ulong)addr;
        sqe->len = len;
        sqe->off = offset;
        sqe->user_data = userData;
    }

    /// <summary>IORING_OP_NOP: completes with res 0 (used for wakeups and tests).</summary>
    public static void Nop(IoUringSqe* sqe, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_NOP, -1, null, 0, 0, userData);

    /// <summary>IORING_OP_READ (5.6): pread(fd, buf, len, offset); res = bytes read, 0 at EOF.
    /// Pass <see cref="CurrentPosition"/> for non-seekable files or to use the file position.</summary>
    public static void Read(IoUringSqe* sqe, int fd, byte* buf, uint len, ulong offset, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_READ, fd, buf, len, offset, userData);

    /// <summary>IORING_OP_WRITE (5.6): pwrite(fd, buf, len, offset); res = bytes written (may be short).</summary>
    public static void Write(IoUringSqe* sqe, int fd, byte* buf, uint len, ulong offset, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_WRITE, fd, buf, len, offset, userData);

    /// <summary>IORING_OP_RECV (5.6): recv(fd, buf, len, flags); res = bytes, 0 = peer closed.</summary>
    public static void Recv(IoUringSqe* sqe, int fd, byte* buf, uint len, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_RECV, fd, buf, len, 0, userData);
        sqe->msg_flags = (uint)flags;
    }

    /// <summary>
    /// Multishot IORING_OP_RECV (6.0) with buffer selection from provided-buffer group <paramref name="bufferGroup"/>:
    /// one CQE per chunk received, each carrying IORING_CQE_F_BUFFER with the buffer id and IORING_CQE_F_MORE while
    /// still armed. Terminates (CQE without F_MORE) on error, EOF (res 0), -ENOBUFS when the group ran dry, or
    /// cancellation; the caller re-arms.
    /// </summary>
    public static void RecvMultishot(IoUringSqe* sqe, int fd, ushort bufferGroup, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_RECV, fd, null, 0, 0, userData);
        sqe->msg_flags = (uint)flags;
        sqe->ioprio = UringNative.IORING_RECV_MULTISHOT;
        sqe->flags = UringNative.IOSQE_BUFFER_SELECT;
        sqe->buf_group = bufferGroup;
    }

    /// <summary>
    /// IORING_OP_READ_MULTISHOT (6.7): multishot read from a pollable fd (pipe, eventfd, tty) into buffers from
    /// <paramref name="bufferGroup"/>. Same termination rules as <see cref="RecvMultishot"/>.
    /// </summary>
    public static void ReadMultishot(IoUringSqe* sqe, int fd, ushort bufferGroup, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_READ_MULTISHOT, fd, null, 0, CurrentPosition, userData);
        sqe->flags = UringNative.IOSQE_BUFFER_SELECT;
        sqe->buf_group = bufferGroup;
    }

    /// <summary>IORING_OP_SEND (5.6): send(fd, buf, len, flags); res = bytes sent (may be short for
    /// non-blocking-style sockets). Pass MSG_NOSIGNAL to get -EPIPE instead of SIGPIPE.</summary>
    public static void Send(IoUringSqe* sqe, int fd, byte* buf, uint len, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_SEND, fd, buf, len, 0, userData);
        sqe->msg_flags = (uint)flags;
    }

    /// <summary>IORING_OP_SEND_ZC (6.0): send(fd, buf, len, flags) from the user pages without copying them. Two CQEs
    /// with <paramref name="userData"/>: the result with IORING_CQE_F_MORE, then IORING_CQE_F_NOTIF once the kernel no
    /// longer reads the buffer; keep it pinned until the second. (A result without F_MORE has no notification.)</summary>
    public static void SendZc(IoUringSqe* sqe, int fd, byte* buf, uint len, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_SEND_ZC, fd, buf, len, 0, userData);
        sqe->msg_flags = (uint)flags;
    }

    /// <summary>
    /// IORING_OP_ACCEPT (5.5): accept4(fd, addr, addrlen, flags); res = the new fd. With
    /// <paramref name="multishot"/> (5.19, IORING_ACCEPT_MULTISHOT) one CQE per connection with IORING_CQE_F_MORE
    /// while armed; <paramref name="addr"/>/<paramref name="addrLen"/> should then be null (one shared buffer would be
    /// overwritten by every accept). Every CQE with res &gt;= 0 carries an fd the consumer owns and must close.
    /// </summary>
    public static void Accept(IoUringSqe* sqe, int fd, byte* addr, int* addrLen, int flags, bool multishot, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_ACCEPT, fd, addr, 0, (ulong)addrLen, userData);
        sqe->accept_flags = (uint)flags;
        if (multishot)
            sqe->ioprio = UringNative.IORING_ACCEPT_MULTISHOT;
    }

    /// <summary>IORING_OP_CONNECT (5.5): connect(fd, addr, addrLen); res 0 or -errno. The addrlen is passed by
    /// value in <c>off</c>.</summary>
    public static void Connect(IoUringSqe* sqe, int fd, byte* addr, int addrLen, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_CONNECT, fd, addr, 0, (ulong)(uint)addrLen, userData);

    /// <summary>IORING_OP_SHUTDOWN (5.11): shutdown(fd, how) with SHUT_RD/SHUT_WR/SHUT_RDWR in <c>len</c>.</summary>
    public static void Shutdown(IoUringSqe* sqe, int fd, int how, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_SHUTDOWN, fd, null, (uint)how, 0, userData);

    /// <summary>IORING_OP_CLOSE (5.6): close(fd). The fd number may be reused by the process as soon as the
    /// request is issued, so the caller must forget it before submitting.</summary>
    public static void Close(IoUringSqe* sqe, int fd, ulong userData)
        => Rw(sqe, UringNative.IORING_OP_CLOSE, fd, null, 0, 0, userData);

    /// <summary>IORING_OP_SPLICE (5.7): splice(fdIn, offIn, fdOut, offOut, len, flags). Offsets of -1
    /// (<see cref="CurrentPosition"/>) mean "no offset" (required for pipes).</summary>
    public static void Splice(IoUringSqe* sqe, int fdIn, ulong offIn, int fdOut, ulong offOut, uint len, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_SPLICE, fdOut, null, len, offOut, userData);
        sqe->splice_off_in = offIn;
        sqe->splice_fd_in = fdIn;
        sqe->splice_flags = flags;
    }

    /// <summary>
    /// IORING_OP_TIMEOUT (5.4): completes with -ETIME when <paramref name="ts"/> elapses (relative, CLOCK_MONOTONIC,
    /// unless IORING_TIMEOUT_ABS / _BOOTTIME / _REALTIME), or with 0 once <paramref name="count"/> other CQEs have
    /// been posted (count 0 = pure timer). -ETIME is the <em>normal</em> expiry result, not a failure;
    /// IORING_TIMEOUT_ETIME_SUCCESS makes a count-completed timeout report that too. -ECANCELED when removed.
    /// </summary>
    public static void Timeout(IoUringSqe* sqe, KernelTimespec* ts, uint count, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_TIMEOUT, -1, ts, 1, count, userData);
        sqe->timeout_flags = flags;
    }

    /// <summary>IORING_OP_TIMEOUT_REMOVE (5.5): removes the timeout whose user_data is <paramref name="target"/>.
    /// res 0 = removed (the timeout itself completes -ECANCELED), -ENOENT = not found (already fired),
    /// -EALREADY = already completing.</summary>
    public static void TimeoutRemove(IoUringSqe* sqe, ulong target, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_TIMEOUT_REMOVE, -1, null, 0, 0, userData);
        sqe->addr = target;
        sqe->timeout_flags = flags;
    }

    /// <summary>
    /// IORING_OP_ASYNC_CANCEL (5.5) keyed on user_data <paramref name="target"/> (plus IORING_ASYNC_CANCEL_ALL /
    /// _ANY, 5.19). res: 0 = found and cancelled (the target completes -ECANCELED), -ENOENT = no such request
    /// (it already completed or never existed), -EALREADY = the request is running and cannot be interrupted
    /// (it will still post its own CQE). With _ALL/_ANY, res is the number cancelled.
    /// </summary>
    public static void AsyncCancel(IoUringSqe* sqe, ulong target, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_ASYNC_CANCEL, -1, null, 0, 0, userData);
        sqe->addr = target;
        sqe->cancel_flags = flags;
    }

    /// <summary>IORING_OP_ASYNC_CANCEL keyed on a file descriptor (IORING_ASYNC_CANCEL_FD, 5.19): cancels the
    /// first (or with IORING_ASYNC_CANCEL_ALL every) request on <paramref name="fd"/>. Results as
    /// <see cref="AsyncCancel"/>.</summary>
    public static void CancelFd(IoUringSqe* sqe, int fd, uint flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_ASYNC_CANCEL, fd, null, 0, 0, userData);
        sqe->cancel_flags = flags | UringNative.IORING_ASYNC_CANCEL_FD;
    }

    /// <summary>
    /// IORING_OP_POLL_ADD (5.1): res = the ready EPOLL* mask. With <paramref name="multishot"/>
    /// (IORING_POLL_ADD_MULTI, 5.13) it stays armed and posts a CQE with IORING_CQE_F_MORE per readiness edge.
    /// </summary>
    public static void PollAdd(IoUringSqe* sqe, int fd, uint eventMask, bool multishot, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_POLL_ADD, fd, null, multishot ? UringNative.IORING_POLL_ADD_MULTI : 0, 0, userData);
        sqe->poll32_events = eventMask; // little-endian only: the uapi header swaps halves on big-endian
    }

    /// <summary>IORING_OP_POLL_REMOVE (5.1): removes the poll whose user_data is <paramref name="target"/>;
    /// res 0 or -ENOENT; the poll itself completes -ECANCELED.</summary>
    public static void PollRemove(IoUringSqe* sqe, ulong target, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_POLL_REMOVE, -1, null, 0, 0, userData);
        sqe->addr = target;
    }

    /// <summary>IORING_OP_SENDMSG (5.3): sendmsg(fd, msg, flags); res = bytes sent. The kernel copies the msghdr and
    /// iovec at prep (io_sendmsg_copy_hdr) but reads the data, the destination and the control buffer when it issues the
    /// request, which may be after a poll-driven retry: all of it must stay valid until the CQE.</summary>
    public static void SendMsg(IoUringSqe* sqe, int fd, MsgHdr* msg, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_SENDMSG, fd, msg, 1, 0, userData);
        sqe->msg_flags = (uint)flags;
    }

    /// <summary>IORING_OP_RECVMSG (5.3): recvmsg(fd, msg, flags); res = bytes received. At completion the kernel writes
    /// the sender into msg_name and msg_namelen, msg_controllen and msg_flags back into <paramref name="msg"/>, which
    /// must therefore stay valid (pinned) until the CQE.</summary>
    public static void RecvMsg(IoUringSqe* sqe, int fd, MsgHdr* msg, int flags, ulong userData)
    {
        Rw(sqe, UringNative.IORING_OP_RECVMSG, fd, msg, 1, 0, userData);
        sqe->msg_flags = (uint)flags;
    }
}
