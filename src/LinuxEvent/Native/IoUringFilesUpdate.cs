using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary><c>struct io_uring_files_update</c> (16 bytes): the first registered-file-table index to replace and a
/// pointer to the new fds (-1 clears an entry); the argument of IORING_REGISTER_FILES_UPDATE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringFilesUpdate
{
    /// <summary>io_uring_register opcode that takes this struct: replace entries of the registered file table (5.5).</summary>
    public const uint RegisterOpcode = 6;

    public uint offset;
    public uint resv;
    public ulong fds;
}
