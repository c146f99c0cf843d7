using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent;

// The proactor's callback API for files: native io_uring operations. Read and Write (at an offset) and Close are in
// ProactorLoop.cs. Each operation's memory (buffers, the iovec array, the path, the statx block) stays pinned until
// its own completion; each kind is checked against the kernel's opcode probe at submission.
public sealed partial class ProactorLoop
{
    /// <summary>
    /// Scatter read (IORING_OP_READV) into <paramref name="buffers"/>, in order, from <paramref name="offset"/> (-1: the
    /// fd's position). Result: total bytes read. The list is read at submission (and again by
    /// <see cref="Resubmit(Operation)"/>), so keep it unchanged until then.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd, an offset below -1, or more than
    /// <see cref="Loop.MaxVectorLength"/> buffers.</exception>
    /// <exception cref="LinuxEventUnsupportedException">The kernel's io_uring lacks IORING_OP_READV.</exception>
    public Operation ReadV(int fd, IReadOnlyList<Memory<byte>> buffers, long offset, Action<Operation>? onComplete = null)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        var f = FileArgs(OperationKind.ReadV, fd, offset, buffers.Count, nameof(ReadV));
        f.Buffers = buffers;
        for (int i = 0; i < buffers.Count; i++) f.Length += buffers[i].Length;
        return SubmitFile(f, onComplete);
    }

    /// <summary>Gather write (IORING_OP_WRITEV) of <paramref name="buffers"/>, in order, at <paramref name="offset"/>
    /// (-1: the fd's position). Result: total bytes written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd, an offset below -1, or too many buffers.</exception>
    public Operation WriteV(int fd, IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, Action<Operation>? onComplete = null)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        var f = FileArgs(OperationKind.WriteV, fd, offset, buffers.Count, nameof(WriteV));
        f.ConstBuffers = buffers;
        for (int i = 0; i < buffers.Count; i++) f.Length += buffers[i].Length;
        return SubmitFile(f, onComplete);
    }

    /// <summary>fsync(2) (IORING_OP_FSYNC): data and metadata to stable storage. Result 0.</summary>
    public Operation Fsync(int fd, Action<Operation>? onComplete = null)
        => SubmitFile(FileArgs(OperationKind.Fsync, fd, -1, 0, nameof(Fsync)), onComplete);

    /// <summary>fdatasync(2) (IORING_OP_FSYNC with IORING_FSYNC_DATASYNC). Result 0.</summary>
    public Operation Fdatasync(int fd, Action<Operation>? onComplete = null)
        => SubmitFile(FileArgs(OperationKind.Fdatasync, fd, -1, 0, nameof(Fdatasync)), onComplete);

    /// <summary>fallocate(2) (IORING_OP_FALLOCATE) of [<paramref name="offset"/>, <paramref name="offset"/> +
    /// <paramref name="length"/>). Result 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd or offset, or a length that is not positive.</exception>
    public Operation Fallocate(int fd, long offset, long length, FallocateMode mode = FallocateMode.Default, Action<Operation>? onComplete = null)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "ProactorLoop.Fallocate: the offset must not be negative.");
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "ProactorLoop.Fallocate: the length must be positive.");
        var f = FileArgs(OperationKind.Fallocate, fd, offset, 0, nameof(Fallocate));
        f.Length = length;
        f.Flags = (int)mode;
        return SubmitFile(f, onComplete);
    }

    /// <summary>
    /// openat(2) (IORING_OP_OPENAT) relative to the current directory. Result: the new fd, close-on-exec, owned by the
    /// callee (an open that completes after a cancel was requested still returns its fd: close it).
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty or contains NUL.</exception>
    public Operation OpenAt(string path, FileOpenFlags flags, UnixFileMode mode, Action<Operation>? onComplete = null)
        => OpenAtCore(Libc.AT_FDCWD, path, flags, mode, onComplete);

    /// <summary>openat(2) relative to the directory open as <paramref name="directoryFd"/>. See
    /// <see cref="OpenAt(string, FileOpenFlags, UnixFileMode, Action{Operation}?)"/>.</summary>
    public Operation OpenAt(int directoryFd, string path, FileOpenFlags flags, UnixFileMode mode, Action<Operation>? onComplete = null)
    {
        if (directoryFd < 0) ThrowHelper.NegativeFd("ProactorLoop.OpenAt", directoryFd, nameof(directoryFd));
        return OpenAtCore(directoryFd, path, flags, mode, onComplete);
    }

    /// <summary>statx(2) (IORING_OP_STATX) of the file open as <paramref name="fd"/>. Result 0; the status is in
    /// <see cref="Operation.FileStatus"/> once completed.</summary>
    public Operation Statx(int fd, Action<Operation>? onComplete = null)
    {
        var f = FileArgs(OperationKind.Statx, fd, -1, 0, nameof(Statx));
        f.Path = FileRequest.EmptyPath;
        f.Flags = Libc.AT_EMPTY_PATH;
        return SubmitStatx(f, onComplete);
    }

    /// <summary>statx(2) of the file at <paramref name="path"/> (relative to the current directory); a symbolic link
    /// itself when <paramref name="followSymbolicLinks"/> is false.</summary>
    public Operation Statx(string path, bool followSymbolicLinks, Action<Operation>? onComplete = null)
    {
        var bytes = FileRequest.EncodePath(path, "ProactorLoop.Statx");
        var f = new FileRequest();
        f.Reset(OperationKind.Statx, Libc.AT_FDCWD, "ProactorLoop.Statx");
        f.Path = bytes;
        f.PathText = path;
        f.Flags = followSymbolicLinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW;
        return SubmitStatx(f, onComplete);
    }

    private Operation SubmitStatx(FileRequest f, Action<Operation>? onComplete)
    {
        f.StatxBlock = GC.AllocateArray<byte>(StatxLayout.Size, pinned: true);
        f.Buffer = f.StatxBlock;
        f.Mode = (int)FileStatus.RequestMask;
        return SubmitFile(f, onComplete);
    }

    private Operation OpenAtCore(int directoryFd, string path, FileOpenFlags flags, UnixFileMode mode, Action<Operation>? onComplete)
    {
        const string call = "ProactorLoop.OpenAt";
        int oflags = FileOpenFlagsNative.ToNative(flags, call);
        if (((int)mode & ~0xFFF) != 0) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{call}: only permission, set-id and sticky bits may be given.");
        var f = new FileRequest();
        f.Reset(OperationKind.OpenAt, directoryFd, call);
        f.Path = FileRequest.EncodePath(path, call);
        f.PathText = path;
        f.Flags = oflags;
        f.Mode = (int)mode;
        return SubmitFile(f, onComplete);
    }

    internal static FileRequest FileArgs(OperationKind kind, int fd, long offset, int vectorLength, string call)
    {
        ValidateFd(fd, call);
        ValidateOffset(offset, call);
        if (vectorLength > MaxVectorLength)
            throw new ArgumentOutOfRangeException("buffers", vectorLength, $"ProactorLoop.{call}: at most {MaxVectorLength} buffers (IOV_MAX) per operation.");
        var f = new FileRequest();
        f.Reset(kind, fd, "ProactorLoop." + call);
        f.Offset = offset;
        return f;
    }

    private Operation SubmitFile(FileRequest f, Action<Operation>? onComplete)
    {
        var op = new Operation(this, f.Kind, onComplete)
        {
            Fd = f.Fd,
            Offset = f.Offset,
            Length = (int)Math.Min(f.Length, int.MaxValue),
            File = f,
        };
        _driver.Submit(op);
        return op;
    }

    /// <summary>
    /// Registers the buffers of <paramref name="pool"/> with the io_uring ring (IORING_REGISTER_BUFFERS). From then on a
    /// read or write at an offset (<see cref="Loop.ReadAtAsync(int, Memory{byte}, long, CancellationToken)"/>,
    /// <see cref="Loop.WriteAtAsync(int, ReadOnlyMemory{byte}, long, CancellationToken)"/>, their <see cref="LoopFd"/>
    /// forms, and the callback <c>Read</c>/<c>Write</c>) whose memory lies inside one of the pool's buffers is submitted
    /// as IORING_OP_READ_FIXED/WRITE_FIXED, which saves the kernel pinning the pages on every request; any other memory
    /// is read and written as before. One pool per loop.
    /// </summary>
    /// <remarks>The loop owns the registration: it holds the pool's memory (disposing the pool does not free it) until
    /// the loop is disposed, which closes the ring and so drops the kernel's buffer table. Call it on the thread that runs
    /// the loop. The fake backend accepts the call and changes nothing.</remarks>
    /// <exception cref="InvalidOperationException">A pool is already registered, or the call is made on another thread.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The pool has more than 16384 buffers (the kernel's limit).</exception>
    /// <exception cref="ObjectDisposedException">The loop or the pool is disposed.</exception>
    /// <exception cref="LinuxEventException">The kernel refused: ENOMEM when the pinned pages exceed RLIMIT_MEMLOCK,
    /// EINVAL for a buffer over 1 GiB.</exception>
    public void RegisterFileBuffers(AlignedBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        CheckThread(nameof(RegisterFileBuffers));
        _backend.RegisterFileBuffers(pool);
    }
}
