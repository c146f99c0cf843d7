using LinuxEvent.Native;

namespace LinuxEvent.Datagrams;

/// <summary>
/// Walks the fds of every SCM_RIGHTS item in a msghdr's ancillary data, within the control bytes it reports
/// (CMSG_FIRSTHDR/CMSG_NXTHDR semantics: items aligned to sizeof(size_t), a truncated last item ignored).
/// </summary>
internal unsafe struct ScmRightsReader(MsgHdr* header)
{
    private readonly byte* _control = (byte*)header->msg_control;
    private readonly long _used = header->msg_control is null ? 0 : (long)header->msg_controllen;
    private long _offset;
    private int* _data;
    private int _remaining;

    /// <summary>The next fd, or false when there are no more.</summary>
    public bool TryNext(out int fd)
    {
        while (_remaining == 0)
        {
            if (_offset + CmsgHdr.DataOffset > _used) { fd = -1; return false; }
            var c = (CmsgHdr*)(_control + _offset);
            long len = (long)c->cmsg_len;
            if (len < CmsgHdr.DataOffset || _offset + len > _used) { fd = -1; return false; }
            if (c->cmsg_level == Libc.SOL_SOCKET && c->cmsg_type == Libc.SCM_RIGHTS)
            {
                _remaining = (int)((len - CmsgHdr.DataOffset) / sizeof(int));
                _data = (int*)(_control + _offset + CmsgHdr.DataOffset);
            }
            _offset += CmsgHdr.Align((int)len);
        }
        _remaining--;
        fd = *_data++;
        return true;
    }
}
