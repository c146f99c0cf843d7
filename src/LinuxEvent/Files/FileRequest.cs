using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Async;
using LinuxEvent.Native;

namespace LinuxEvent.Files;

/// <summary>
/// The arguments of one file operation (pread, pwrite, preadv, pwritev, fsync, fdatasync, openat, statx, fallocate,
/// close) and the pins that keep its memory still while the kernel or a worker thread uses it. Written once above the
/// seam (<c>Loop.Files.cs</c>, <c>ProactorLoop.Files.cs</c>), read by both models: the proactor puts it in an SQE, the
/// reactor's worker pool passes it to the blocking syscall. One instance belongs to each pooled <see cref="AsyncOp"/>
/// (and to each callback-API <see cref="Operation"/>) and is reused, so a steady stream of file operations allocates
/// nothing: the iovec array lives on the pinned object heap and grows only when a longer vector shows up.
/// </summary>
internal sealed unsafe class FileRequest
{
    /// <summary>The path argument of a statx by fd: "" with AT_EMPTY_PATH (a NULL path needs Linux 6.11).</summary>
    internal static readonly byte[] EmptyPath = GC.AllocateArray<byte>(1, pinned: true);

    // ------------------------------------------------------------------ the request

    public OperationKind Kind;
    /// <summary>The public call that made the request, for errors (e.g. "Loop.ReadAtAsync").</summary>
    public string Call = "";
    /// <summary>The target fd; for an openat, or a statx by path, the directory fd (<see cref="Libc.AT_FDCWD"/>).</summary>
    public int Fd;
    /// <summary>File offset of a read, write or fallocate; -1 when none.</summary>
    public long Offset = -1;
    /// <summary>Bytes asked for (the sum of a vector), or fallocate's length.</summary>
    public long Length;
    /// <summary>openat: O_* flags; statx: AT_* flags; fallocate: FALLOC_FL_* mode.</summary>
    public int Flags;
    /// <summary>openat: permission bits for a created file; statx: the STATX_* mask.</summary>
    public int Mode;
    /// <summary>NUL-terminated UTF-8 path on the pinned object heap (never moves), or null.</summary>
    public byte[]? Path;
    /// <summary>The path as given, for errors and fakes.</summary>
    public string? PathText;
    /// <summary>Read buffer, or the statx result block.</summary>
    public Memory<byte> Buffer;
    /// <summary>A statx's result block (pinned heap, owned by the request; kept after settlement for the callback API).</summary>
    public byte[]? StatxBlock;
    /// <summary>Write buffer.</summary>
    public ReadOnlyMemory<byte> ConstBuffer;
    /// <summary>preadv buffers.</summary>
    public IReadOnlyList<Memory<byte>>? Buffers;
    /// <summary>pwritev buffers.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>>? ConstBuffers;
    /// <summary>Bytes a reactor read already got inline (a short RWF_NOWAIT read); the worker reads the rest.</summary>
    public int Prefix;

    /// <summary>Starts a new request (every argument reset).</summary>
    public void Reset(OperationKind kind, int fd, string call)
    {
        Kind = kind;
        Fd = fd;
        Call = call;
        Offset = -1;
        Length = 0;
        Flags = 0;
        Mode = 0;
        Path = null;
        PathText = null;
        Buffer = default;
        ConstBuffer = default;
        Buffers = null;
        ConstBuffers = null;
        StatxBlock = null;
        Prefix = 0;
    }

    /// <summary>Drops every reference to the caller's memory once the operation has settled.</summary>
    public void ClearReferences()
    {
        Buffer = default;
        ConstBuffer = default;
        Buffers = null;
        ConstBuffers = null;
        Path = null;
    }

    /// <summary>NUL-terminated UTF-8 for a path argument, on the pinned heap.</summary>
    /// <exception cref="ArgumentException">The path is empty or contains a NUL character.</exception>
    public static byte[] EncodePath(string path, string call)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) throw new ArgumentException($"{call}: the path must not be empty.", nameof(path));
        if (path.Contains('\0')) throw new ArgumentException($"{call}: the path contains a NUL character.", nameof(path));
        int n = Encoding.UTF8.GetByteCount(path);
        var bytes = GC.AllocateArray<byte>(n + 1, pinned: true);
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    // ------------------------------------------------------------------ pins

    private MemoryHandle _pin;
    private MemoryHandle[] _pins = [];
    private IoVec[] _iov = [];

    /// <summary>True while the request's memory is pinned.</summary>
    public bool Pinned { get; private set; }

    /// <summary>Entries used in <see cref="Iov"/>.</summary>
    public int IovCount { get; private set; }

    /// <summary>The single buffer (read, write, statx result) while pinned.</summary>
    public byte* BufferPointer => (byte*)_pin.Pointer;

    /// <summary>The iovec array of a vectored request while pinned (the array is on the pinned heap).</summary>
    public IoVec* Iov => IovCount == 0 ? null : (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iov));

    /// <summary>The path (on the pinned heap, never moves), or null.</summary>
    public byte* PathPointer => Path is null ? null : (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Path));

    /// <summary>
    /// Pins what the kernel will read or write: the buffer, or every buffer of a vector plus its iovec array. All or
    /// nothing: if pinning one buffer throws, those already pinned are released.
    /// </summary>
    public void Pin()
    {
        if (Pinned) return;
        switch (Kind)
        {
            case OperationKind.Read or OperationKind.Statx:
                _pin = Buffer.Pin();
                break;
            case OperationKind.Write:
                _pin = ConstBuffer.Pin();
                break;
            case OperationKind.ReadV:
                PinVector(Buffers!.Count);
                break;
            case OperationKind.WriteV:
                PinVector(ConstBuffers!.Count);
                break;
        }
        Pinned = true;
    }

    private void PinVector(int count)
    {
        if (_iov.Length < count)
        {
            int n = Math.Max(count, Math.Max(4, _iov.Length * 2));
            _iov = GC.AllocateArray<IoVec>(n, pinned: true);
            _pins = new MemoryHandle[n];
        }
        int i = 0;
        try
        {
            for (; i < count; i++)
            {
                // Indexed access: an IReadOnlyList enumerator would allocate. The kernel only reads a pwritev's memory.
                var m = Buffers is { } rw ? rw[i] : MemoryMarshal.AsMemory(ConstBuffers![i]);
                _pins[i] = m.Pin();
                _iov[i].iov_base = _pins[i].Pointer;
                _iov[i].iov_len = (nuint)m.Length;
            }
        }
        catch
        {
            for (int j = 0; j < i; j++) _pins[j].Dispose();
            throw;
        }
        IovCount = count;
    }

    /// <summary>Releases the pins (the kernel or worker is done with the memory).</summary>
    public void Unpin()
    {
        if (!Pinned) return;
        Pinned = false;
        _pin.Dispose();
        _pin = default;
        for (int i = 0; i < IovCount; i++)
        {
            _pins[i].Dispose();
            _pins[i] = default;
        }
        IovCount = 0;
    }

    // ------------------------------------------------------------------ reactor worker pool state

    /// <summary>Where a request is in the reactor's worker pool (guarded by the pool's lock).</summary>
    public enum WorkState : byte { None, Queued, Running, Finished }

    /// <summary>The awaitable this request settles (reactor).</summary>
    public AsyncOp? Owner;
    /// <summary>Queue links (reactor worker pool): an intrusive FIFO, so a cancelled request leaves in O(1).</summary>
    public FileRequest? Prev, Next;
    public WorkState State;
    /// <summary>The worker's result: bytes, the new fd, 0, or -errno.</summary>
    public int Result;
    /// <summary>Loop disposal stopped waiting for the worker running this request: the worker cleans up after itself.</summary>
    public bool Abandoned;
}
