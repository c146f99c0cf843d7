using System.Net;
using LinuxEvent.Native;

namespace LinuxEvent.Datagrams;

/// <summary>
/// What the kernel does with a msghdr, for the fake backends: they script sendmsg/recvmsg by reading and writing the
/// very msghdr a real syscall or SQE would get, so the code that interprets it (above the seam) is the one tested.
/// </summary>
internal static unsafe class FakeMessageKernel
{
    /// <summary>
    /// recvmsg: copies <paramref name="data"/> into the iovecs (MSG_TRUNC if it does not fit), writes the sender into
    /// msg_name (msg_namelen 0 for none), and hands over <paramref name="fds"/> as SCM_RIGHTS up to the room the control
    /// buffer has (scm_max_fds); the fds that do not fit are closed and MSG_CTRUNC is set, as scm_detach_fds does.
    /// Ownership of every fd in <paramref name="fds"/> passes here. Returns the bytes copied.
    /// </summary>
    public static int Receive(MsgHdr* msg, ReadOnlySpan<byte> data, EndPoint? from, ReadOnlySpan<int> fds)
    {
        int flags = 0;
        int copied = 0;
        for (nuint i = 0; i < msg->msg_iovlen && copied < data.Length; i++)
        {
            var v = msg->msg_iov[i];
            int n = Math.Min((int)v.iov_len, data.Length - copied);
            data.Slice(copied, n).CopyTo(new Span<byte>(v.iov_base, n));
            copied += n;
        }
        if (copied < data.Length) flags |= Libc.MSG_TRUNC;

        int nameLength = 0;
        if (msg->msg_name is not null && from is not null)
        {
            Span<byte> name = stackalloc byte[SockAddr.MaxSize];
            nameLength = SockAddr.Write(from, name);
            name.Slice(0, Math.Min(nameLength, msg->msg_namelen)).CopyTo(new Span<byte>(msg->msg_name, msg->msg_namelen));
        }
        msg->msg_namelen = nameLength;

        nuint controlLength = msg->msg_control is null ? 0 : msg->msg_controllen;
        int room = controlLength <= (nuint)CmsgHdr.DataOffset ? 0 : (int)((controlLength - (nuint)CmsgHdr.DataOffset) / sizeof(int));
        int installed = Math.Min(room, fds.Length);
        nuint used = 0;
        if (installed > 0)
        {
            var c = (CmsgHdr*)msg->msg_control;
            c->cmsg_len = (nuint)CmsgHdr.Length(installed * sizeof(int));
            c->cmsg_level = Libc.SOL_SOCKET;
            c->cmsg_type = Libc.SCM_RIGHTS;
            fds.Slice(0, installed).CopyTo(new Span<int>((byte*)c + CmsgHdr.DataOffset, installed));
            used = Math.Min((nuint)CmsgHdr.Space(installed * sizeof(int)), controlLength);
        }
        for (int i = installed; i < fds.Length; i++) Libc.Close(fds[i]);
        if (installed < fds.Length) flags |= Libc.MSG_CTRUNC;
        msg->msg_controllen = used;
        msg->msg_flags = flags;
        return copied;
    }

    /// <summary>sendmsg, seen from the wire: the bytes of the iovecs, the destination and the SCM_RIGHTS fds.</summary>
    public static FakeDatagram Sent(MsgHdr* msg)
    {
        int total = 0;
        for (nuint i = 0; i < msg->msg_iovlen; i++) total += (int)msg->msg_iov[i].iov_len;
        var data = new byte[total];
        int at = 0;
        for (nuint i = 0; i < msg->msg_iovlen; i++)
        {
            var v = msg->msg_iov[i];
            new ReadOnlySpan<byte>(v.iov_base, (int)v.iov_len).CopyTo(data.AsSpan(at));
            at += (int)v.iov_len;
        }
        EndPoint? to = msg->msg_name is null ? null : SockAddr.Read(new ReadOnlySpan<byte>(msg->msg_name, msg->msg_namelen), msg->msg_namelen);
        var fds = new List<int>();
        var reader = new ScmRightsReader(msg);
        while (reader.TryNext(out int fd)) fds.Add(fd);
        return new FakeDatagram(data, to, fds.ToArray());
    }

    /// <summary>A fake proactor's pending RECVMSG receives a datagram: its msghdr is armed as the uring backend arms
    /// it at submission (the operation's buffer is pinned while it is pending), then written as the kernel would.</summary>
    public static int ReceiveInto(Operation op, ReadOnlySpan<byte> data, EndPoint? from, ReadOnlySpan<int> fds)
    {
        var message = op.Message!;
        message.ArmReceive((byte*)op.Pin.Pointer, op.Length);
        return Receive(message.Header, data, from, fds);
    }

    /// <summary>What a fake proactor's pending SENDMSG would put on the wire.</summary>
    public static FakeDatagram SentBy(Operation op)
    {
        var message = op.Message!;
        message.ArmSend((byte*)op.Pin.Pointer, op.Length);
        return Sent(message.Header);
    }
}
