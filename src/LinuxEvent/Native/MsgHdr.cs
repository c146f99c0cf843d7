using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary>
/// <c>struct msghdr</c> (LP64 Linux, identical on x86-64 and arm64): 56 bytes. The kernel reads it on sendmsg/recvmsg
/// and, on recvmsg, writes back <see cref="msg_namelen"/>, <see cref="msg_controllen"/> and <see cref="msg_flags"/>
/// (____sys_recvmsg: move_addr_to_user, then __put_user of the flags and of the control length used).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    /// <summary>Peer address buffer (sockaddr), or null.</summary>
    public void* msg_name;
    /// <summary>socklen_t: the buffer size on input, the address length on output.</summary>
    public int msg_namelen;
    private int _pad0;
    /// <summary>The scatter/gather array.</summary>
    public IoVec* msg_iov;
    /// <summary>Number of iovecs.</summary>
    public nuint msg_iovlen;
    /// <summary>Ancillary data (cmsghdr sequence), or null.</summary>
    public void* msg_control;
    /// <summary>Ancillary buffer size on input, bytes used on output.</summary>
    public nuint msg_controllen;
    /// <summary>recvmsg output: MSG_TRUNC, MSG_CTRUNC, ...</summary>
    public int msg_flags;
    private int _pad1;
}
