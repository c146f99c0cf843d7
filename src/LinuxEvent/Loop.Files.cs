using LinuxEvent.Async;
using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent;

public abstract partial class Loop
{
    /// <summary>Largest iovec count of one vectored call (IOV_MAX).</summary>
    public const int MaxVectorLength = 1024;

    private const UnixFileMode DefaultCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>
    /// Reads up to <c>buffer.Length</c> bytes of <paramref name="fd"/> at <paramref name="offset"/> (pread(2)); the
    /// fd's file position is not used or moved. Result: bytes read, fewer than asked only at end of file (0 at or past
    /// it). See the remarks for the rules, cancellation and what each model does.
    /// </summary>
    /// <remarks>
    /// <para><b>Files, on both models.</b> The proactor submits native io_uring operations (READ/WRITE at an offset,
    /// READV/WRITEV, FSYNC, OPENAT, STATX, FALLOCATE, CLOSE). The reactor cannot wait on a regular file (epoll refuses it
    /// with EPERM), so it runs the blocking syscall on a small pool of worker threads
    /// (<see cref="ReactorOptions.FileWorkerThreads"/>) and completes the await on the loop thread; a read whose data is
    /// already in the page cache completes inline (preadv2 with RWF_NOWAIT) without a thread hop.</para>
    /// <para><b>Rules</b> (both models): loop thread only; a file operation occupies no side of its fd, so any number may
    /// be pending on one fd (e.g. 32 random reads); offsets are absolute and never move the fd's file position. The caller
    /// keeps every fd open until the operations on it have completed. Buffers must not be touched until the await
    /// completes: the kernel (or a worker) may use them until then. Errors are <see cref="LinuxEventException"/>s naming the
    /// syscall, its arguments, the errno and this call, with a hint for a directory, a closed fd, a pipe or a misaligned
    /// O_DIRECT buffer.</para>
    /// <para><b>Cancellation</b> (both models): a request not yet started (queued for a worker, or not yet issued by
    /// io_uring) completes with <see cref="OperationCanceledException"/>. A request already running cannot be interrupted
    /// (a regular-file read in the block layer, a syscall in a worker): it completes with its real result, exactly once,
    /// and its buffer stays in use until then. Loop disposal fails pending file operations with
    /// <see cref="ObjectDisposedException"/>, except those already running, which deliver their result (see
    /// <see cref="ReactorOptions.FileWorkerThreads"/> for the reactor's bound on that wait).</para>
    /// <para><b>Allocation:</b> reads, writes (also vectored), fsync, fdatasync, fallocate and close allocate nothing in
    /// steady state. <see cref="OpenAsync(string, FileOpenFlags, CancellationToken)"/> and <c>StatxAsync</c> allocate a
    /// small pinned block for the path or the result.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> or <paramref name="offset"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public ValueTask<int> ReadAtAsync(int fd, Memory<byte> buffer, long offset, CancellationToken cancellationToken = default)
        => ReadAtCore(fd, buffer, offset, cancellationToken, "Loop.ReadAtAsync", null).AsValueTask();

    /// <summary>
    /// Writes <paramref name="buffer"/> to <paramref name="fd"/> at <paramref name="offset"/> (pwrite(2)). Result: bytes
    /// written; a regular file takes them all unless the disk is full or a limit is hit. Same rules as
    /// <see cref="ReadAtAsync(int, Memory{byte}, long, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> or <paramref name="offset"/> is negative.</exception>
    public ValueTask<int> WriteAtAsync(int fd, ReadOnlyMemory<byte> buffer, long offset, CancellationToken cancellationToken = default)
        => WriteAtCore(fd, buffer, offset, cancellationToken, "Loop.WriteAtAsync", null).AsValueTask();

    /// <summary>
    /// Scatter read (preadv(2)): fills <paramref name="buffers"/> in order from <paramref name="offset"/>. Result: total
    /// bytes read. The list is read when the call is made and must not change until it completes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd or offset, or more than <see cref="MaxVectorLength"/> buffers.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="buffers"/> is null.</exception>
    public ValueTask<int> ReadAtAsync(int fd, IReadOnlyList<Memory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
        => ReadVCore(fd, buffers, offset, cancellationToken, "Loop.ReadAtAsync", null).AsValueTask();

    /// <summary>Gather write (pwritev(2)): writes <paramref name="buffers"/> in order at <paramref name="offset"/>. Result:
    /// total bytes written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd or offset, or more than <see cref="MaxVectorLength"/> buffers.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="buffers"/> is null.</exception>
    public ValueTask<int> WriteAtAsync(int fd, IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
        => WriteVCore(fd, buffers, offset, cancellationToken, "Loop.WriteAtAsync", null).AsValueTask();

    /// <summary>
    /// Flushes <paramref name="fd"/>'s data and metadata to stable storage (fsync(2)); completes when the device has
    /// them. Cancelling does not undo a flush that has started.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public ValueTask FsyncAsync(int fd, CancellationToken cancellationToken = default)
        => SimpleFileCore(OperationKind.Fsync, fd, cancellationToken, "Loop.FsyncAsync", null).AsVoidValueTask();

    /// <summary>Like <see cref="FsyncAsync(int, CancellationToken)"/> but skips metadata not needed to read the data back,
    /// such as the modification time (fdatasync(2); io_uring: IORING_FSYNC_DATASYNC).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public ValueTask FdatasyncAsync(int fd, CancellationToken cancellationToken = default)
        => SimpleFileCore(OperationKind.Fdatasync, fd, cancellationToken, "Loop.FdatasyncAsync", null).AsVoidValueTask();

    /// <summary>
    /// Allocates (or with <paramref name="mode"/>, punches, zeroes, collapses or inserts) the byte range
    /// [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of <paramref name="fd"/>
    /// (fallocate(2)). A file system without support for the mode fails with EOPNOTSUPP.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd or offset, or a length that is not positive.</exception>
    public ValueTask FallocateAsync(int fd, long offset, long length, FallocateMode mode = FallocateMode.Default, CancellationToken cancellationToken = default)
        => FallocateCore(fd, offset, length, mode, cancellationToken, "Loop.FallocateAsync", null).AsVoidValueTask();

    /// <summary>
    /// Opens <paramref name="path"/> (openat(2) relative to the current directory). Result: the new fd, close-on-exec
    /// and owned by the caller (close it with <see cref="CloseAsync"/>, <see cref="Posix.Close"/>, or hand it to
    /// <see cref="Register"/> with <c>ownsFd: true</c>). A created file gets mode 0666 minus the umask. If the token is
    /// cancelled after the kernel opened the file, the call still completes with the fd (it is never leaked).
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty or contains NUL.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Unknown <paramref name="flags"/>.</exception>
    public ValueTask<int> OpenAsync(string path, FileOpenFlags flags, CancellationToken cancellationToken = default)
        => OpenAtCore(Libc.AT_FDCWD, path, flags, DefaultCreateMode, cancellationToken, "Loop.OpenAsync").AsValueTask();

    /// <summary>Opens <paramref name="path"/>, creating it with <paramref name="mode"/> (minus the umask) when
    /// <paramref name="flags"/> has <see cref="FileOpenFlags.Create"/>. See <see cref="OpenAsync(string, FileOpenFlags, CancellationToken)"/>.</summary>
    public ValueTask<int> OpenAsync(string path, FileOpenFlags flags, UnixFileMode mode, CancellationToken cancellationToken = default)
        => OpenAtCore(Libc.AT_FDCWD, path, flags, mode, cancellationToken, "Loop.OpenAsync").AsValueTask();

    /// <summary>Opens <paramref name="path"/> relative to the directory open as <paramref name="directoryFd"/> (an
    /// absolute path ignores it). See <see cref="OpenAsync(string, FileOpenFlags, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="directoryFd"/> is negative.</exception>
    public ValueTask<int> OpenAtAsync(int directoryFd, string path, FileOpenFlags flags, UnixFileMode mode, CancellationToken cancellationToken = default)
    {
        if (directoryFd < 0) ThrowHelper.NegativeFd("Loop.OpenAtAsync", directoryFd, nameof(directoryFd));
        return OpenAtCore(directoryFd, path, flags, mode, cancellationToken, "Loop.OpenAtAsync").AsValueTask();
    }

    /// <summary>
    /// Status of the file open as <paramref name="fd"/> (statx(2) with AT_EMPTY_PATH): size, type, permissions, times,
    /// block size, O_DIRECT alignment. See <see cref="FileStatus"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public ValueTask<FileStatus> StatxAsync(int fd, CancellationToken cancellationToken = default)
        => StatxCore(fd, null, 0, cancellationToken, "Loop.StatxAsync", null);

    /// <summary>Status of the file at <paramref name="path"/> (statx(2) relative to the current directory); with
    /// <paramref name="followSymbolicLinks"/> false a symbolic link itself is described (AT_SYMLINK_NOFOLLOW).</summary>
    /// <exception cref="ArgumentException">The path is empty or contains NUL.</exception>
    public ValueTask<FileStatus> StatxAsync(string path, bool followSymbolicLinks = true, CancellationToken cancellationToken = default)
    {
        var bytes = FileRequest.EncodePath(path, "Loop.StatxAsync");
        return StatxCore(Libc.AT_FDCWD, (bytes, path), followSymbolicLinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW, cancellationToken, "Loop.StatxAsync", null);
    }

    /// <summary>
    /// Closes <paramref name="fd"/> (close(2); io_uring: IORING_OP_CLOSE; the reactor runs it on a worker because
    /// closing the last reference to a file can block, e.g. on NFS or when a deleted file is freed). The fd number is
    /// free for reuse once this completes; do not use it after the call. Errors (EIO from a deferred write-back) are
    /// reported, but the fd is closed either way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    /// <exception cref="ArgumentException">The fd belongs to the loop itself.</exception>
    /// <exception cref="InvalidOperationException">The fd is registered (dispose its <see cref="LoopFd"/> instead), or
    /// has a pending read-side or write-side async operation.</exception>
    public ValueTask CloseAsync(int fd, CancellationToken cancellationToken = default)
    {
        const string call = "Loop.CloseAsync";
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        CheckThread(call);
        if (Backend.OwnsFd(fd))
            throw new ArgumentException($"{call}: fd {fd} is owned by the loop itself (its wake, signal or process adaptor, or the backend's kernel object).", nameof(fd));
        if (_ioFds[fd] is { } state)
        {
            if (state.Registration is not null)
                throw new InvalidOperationException($"{call}: fd {fd} is registered; dispose its LoopFd instead.");
            if (state.Reader is not null || state.Writer is not null)
                throw new InvalidOperationException($"{call}: fd {fd} has a pending async operation; cancel or await it first.");
        }
        return SimpleFileCore(OperationKind.Close, fd, cancellationToken, call, null).AsVoidValueTask();
    }
}
