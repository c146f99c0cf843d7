using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Datagrams;

/// <summary>
/// The kernel-facing storage of one pooled datagram operation: a msghdr, its single iovec and a sockaddr buffer in one
/// array on the pinned object heap (it never moves), plus an ancillary-data buffer for SCM_RIGHTS, also pinned, grown
/// on demand. Created once per pooled <see cref="Async.AsyncOp"/> and reused, so a sendmsg/recvmsg allocates nothing.
/// </summary>
/// <remarks>
/// Everything here stays valid until the operation settles, which io_uring needs: IORING_OP_RECVMSG writes the peer
/// address into <c>msg_name</c> and then msg_namelen, msg_controllen and msg_flags back into this very msghdr at
/// completion (____sys_recvmsg: move_addr_to_user, then __put_user of the flags and of the control bytes used).
/// The reactor points the iovec at the caller's buffer only for the duration of its syscall; the proactor points it at
/// the buffer the operation keeps pinned until its CQE.
/// </remarks>
internal sealed unsafe class MessageBlock
{
    private const int IoVecOffset = 56, NameOffset = 72, BlockSize = NameOffset + SockAddr.MaxSize;

    private readonly byte[] _block = GC.AllocateArray<byte>(BlockSize, pinned: true);
    private readonly byte* _base;
    private byte[]? _control;                 // pinned, CMSG_SPACE(4 * _controlFds) bytes
    private int _controlFds;                  // fds the control buffer has room for
    private int _receiveFds;                  // receive: fds the caller has room for (0: no control buffer at all)

    // The last Unix endpoint encoded for a send: UnixDomainSocketEndPoint is immutable, and encoding one allocates
    // (its path as a string, then as UTF-8), so a reply to the same peer object reuses the bytes.
    private UnixDomainSocketEndPoint? _unixRemote;
    private readonly byte[] _unixName = new byte[SockAddr.MaxSize];
    private int _unixNameLength;

    public MessageBlock()
    {
        _base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_block));
    }

    /// <summary>The msghdr handed to sendmsg/recvmsg or to an io_uring SENDMSG/RECVMSG SQE.</summary>
    public MsgHdr* Header => (MsgHdr*)_base;

    private IoVec* Vector => (IoVec*)(_base + IoVecOffset);

    private byte* Name => _base + NameOffset;

    private byte* Control => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_control!));

    // ------------------------------------------------------------------ send

    /// <summary>Fills the msghdr for a send: destination (or none on a connected socket) and SCM_RIGHTS fds (or none).</summary>
    /// <exception cref="ArgumentException">The endpoint cannot be encoded (checked above the seam before anything started).</exception>
    public void PrepareSend(EndPoint? remote, ReadOnlySpan<int> fds)
    {
        var h = Header;
        *h = default;
        h->msg_iov = Vector;
        h->msg_iovlen = 1;
        if (remote is not null)
        {
            h->msg_name = Name;
            h->msg_namelen = EncodeName(remote);
        }
        if (!fds.IsEmpty)
        {
            EnsureControl(fds.Length);
            var c = (CmsgHdr*)Control;
            c->cmsg_len = (nuint)CmsgHdr.Length(fds.Length * sizeof(int));
            c->cmsg_level = Libc.SOL_SOCKET;
            c->cmsg_type = Libc.SCM_RIGHTS;
            fds.CopyTo(new Span<int>(Control + CmsgHdr.DataOffset, fds.Length));
            h->msg_control = c;
            h->msg_controllen = (nuint)CmsgHdr.Space(fds.Length * sizeof(int));
        }
    }

    /// <summary>Points the iovec at the bytes to send (pinned by the caller for as long as the kernel may read them).</summary>
    public void ArmSend(byte* data, int length)
    {
        Vector->iov_base = data;
        Vector->iov_len = (nuint)length;
    }

    private int EncodeName(EndPoint remote)
    {
        var name = new Span<byte>(Name, SockAddr.MaxSize);
        if (remote is UnixDomainSocketEndPoint unix)
        {
            if (!ReferenceEquals(unix, _unixRemote))
            {
                _unixNameLength = SockAddr.Write(unix, _unixName);
                _unixRemote = unix;
            }
            _unixName.AsSpan(0, SockAddr.MaxSize).CopyTo(name);
            return _unixNameLength;
        }
        return SockAddr.Write(remote, name);
    }

    // ------------------------------------------------------------------ receive

    /// <summary>Sets how many received fds the caller has room for (0: no ancillary buffer; the kernel then closes any
    /// fds that arrive and reports MSG_CTRUNC).</summary>
    public void PrepareReceive(int fdCapacity)
    {
        _receiveFds = fdCapacity;
        if (fdCapacity > 0) EnsureControl(fdCapacity);
    }

    /// <summary>
    /// Resets the msghdr for one recvmsg into <paramref name="data"/> (pinned by the caller for as long as the kernel
    /// may write). Called before every attempt: the kernel overwrote the lengths and flags on the previous one.
    /// </summary>
    public void ArmReceive(byte* data, int length)
    {
        var h = Header;
        Vector->iov_base = data;
        Vector->iov_len = (nuint)length;
        h->msg_iov = Vector;
        h->msg_iovlen = 1;
        h->msg_name = Name;
        h->msg_namelen = SockAddr.MaxSize;
        if (_receiveFds > 0)
        {
            // CMSG_LEN, not CMSG_SPACE: the kernel installs (msg_controllen - sizeof(cmsghdr)) / sizeof(int) fds
            // (scm_max_fds), so an odd capacity padded to CMSG_SPACE would let one fd more in than the caller has room for.
            h->msg_control = Control;
            h->msg_controllen = (nuint)CmsgHdr.Length(_receiveFds * sizeof(int));
        }
        else
        {
            h->msg_control = null;
            h->msg_controllen = 0;
        }
        h->msg_flags = 0;
    }

    /// <summary>
    /// Reads what the kernel wrote for a completed recvmsg: the peer (through <paramref name="endPoints"/>, so a known
    /// peer costs no allocation), the flags, and the SCM_RIGHTS fds, copied into <paramref name="fds"/>. An fd beyond
    /// the caller's room (which the control length makes impossible, but is handled rather than trusted) is closed and
    /// reported as control truncation, so a received fd is never leaked.
    /// </summary>
    public int ReadReceived(Span<int> fds, EndPointCache endPoints, out EndPoint? from, out ReceiveMessageFlags flags)
    {
        var h = Header;
        flags = ReceiveMessageFlags.None;
        if ((h->msg_flags & Libc.MSG_TRUNC) != 0) flags |= ReceiveMessageFlags.Truncated;
        if ((h->msg_flags & Libc.MSG_CTRUNC) != 0) flags |= ReceiveMessageFlags.ControlTruncated;
        int nameLength = Math.Clamp(h->msg_namelen, 0, SockAddr.MaxSize);
        from = endPoints.Get(new ReadOnlySpan<byte>(Name, nameLength));
        if (h->msg_control is null || h->msg_controllen < (nuint)CmsgHdr.DataOffset) return 0;
        int count = 0;
        var reader = new ScmRightsReader(h);
        while (reader.TryNext(out int fd))
        {
            if (count < fds.Length) fds[count++] = fd;
            else
            {
                Libc.Close(fd);
                flags |= ReceiveMessageFlags.ControlTruncated;
            }
        }
        return count;
    }

    private void EnsureControl(int fdCount)
    {
        if (_control is not null && _controlFds >= fdCount) return;
        int room = Math.Max(fdCount, 4);
        _control = GC.AllocateArray<byte>(CmsgHdr.Space(room * sizeof(int)), pinned: true);
        _controlFds = room;
    }
}
