using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

/// <summary>
/// A copy of one CQE, taken by <see cref="UringRing.Reap"/> so the kernel's slot can be released immediately.
/// 16 bytes, no references: arrays of it are reusable reap buffers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct UringCompletion
{
    /// <summary>The user_data of the SQE that produced this completion.</summary>
    public readonly ulong UserData;

    /// <summary>The result: a syscall-style non-negative value, or <c>-errno</c>.</summary>
    public readonly int Result;

    /// <summary>IORING_CQE_F_* flags (upper 16 bits: buffer id when <see cref="HasBuffer"/>).</summary>
    public readonly uint Flags;

    /// <summary>Creates a completion record.</summary>
    public UringCompletion(ulong userData, int result, uint flags)
    {
        UserData = userData;
        Result = result;
        Flags = flags;
    }

    /// <summary>
    /// IORING_CQE_F_MORE: the request is still armed and will post further CQEs (multishot accept/recv/poll,
    /// and the first CQE of a zero-copy send). When a multishot CQE arrives <em>without</em> this flag the
    /// request has terminated (error, -ECANCELED, -ENOBUFS, EOF or overflow) and must be re-armed to continue.
    /// </summary>
    public bool HasMore => (Flags & UringNative.IORING_CQE_F_MORE) != 0;

    /// <summary>IORING_CQE_F_BUFFER: a provided buffer was consumed; its id is <see cref="BufferId"/> and it now
    /// belongs to the consumer until recycled (see <see cref="UringBufferRing"/>).</summary>
    public bool HasBuffer => (Flags & UringNative.IORING_CQE_F_BUFFER) != 0;

    /// <summary>The provided-buffer id (<c>flags &gt;&gt; IORING_CQE_BUFFER_SHIFT</c>); meaningful only when
    /// <see cref="HasBuffer"/>.</summary>
    public ushort BufferId => (ushort)(Flags >> UringNative.IORING_CQE_BUFFER_SHIFT);

    /// <summary>Decodes the buffer id from raw CQE flags.</summary>
    public static ushort BufferIdFromFlags(uint flags) => (ushort)(flags >> UringNative.IORING_CQE_BUFFER_SHIFT);

    /// <inheritdoc/>
    public override string ToString()
        => $"cqe(user_data={UserData}, res={Result}, flags=0x{Flags:x})";
}
