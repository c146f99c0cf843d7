using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary>
/// <c>struct cmsghdr</c> (16 bytes on LP64): the header of one ancillary-data item, followed by its data at
/// <see cref="DataOffset"/>. Items are aligned to <c>sizeof(size_t)</c> (CMSG_ALIGN), as glibc's CMSG_* macros compute.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CmsgHdr
{
    /// <summary>CMSG_LEN(data length): header plus data, without the trailing alignment padding.</summary>
    public nuint cmsg_len;
    /// <summary>Originating protocol (SOL_SOCKET for SCM_RIGHTS).</summary>
    public int cmsg_level;
    /// <summary>Protocol-specific type (SCM_RIGHTS: an array of fds).</summary>
    public int cmsg_type;

    /// <summary>CMSG_DATA offset: CMSG_ALIGN(sizeof(struct cmsghdr)).</summary>
    public const int DataOffset = 16;

    /// <summary>CMSG_ALIGN: rounds up to a multiple of sizeof(size_t).</summary>
    public static int Align(int length) => (length + 7) & ~7;

    /// <summary>CMSG_LEN(n): the cmsg_len of an item carrying <paramref name="dataLength"/> bytes.</summary>
    public static int Length(int dataLength) => DataOffset + dataLength;

    /// <summary>CMSG_SPACE(n): the room an item carrying <paramref name="dataLength"/> bytes takes, padding included.</summary>
    public static int Space(int dataLength) => DataOffset + Align(dataLength);
}
