namespace LinuxEvent;

// File operations on a registered fd: the loop's file calls without the fd argument (same rules, same models; see
// Loop.ReadAtAsync). A regular file can be registered on both models: the reactor keeps it out of epoll, which refuses
// regular files, and runs its file operations on the worker pool.
public sealed partial class LoopFd
{
    /// <summary>pread at <paramref name="offset"/>: bytes read, fewer only at end of file. See
    /// <see cref="Loop.ReadAtAsync(int, Memory{byte}, long, CancellationToken)"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReadAtAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken = default)
        => Loop.ReadAtCore(Fd, buffer, offset, cancellationToken, "LoopFd.ReadAtAsync", this).AsValueTask();

    /// <summary>pwrite at <paramref name="offset"/>: bytes written. See
    /// <see cref="Loop.WriteAtAsync(int, ReadOnlyMemory{byte}, long, CancellationToken)"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> WriteAtAsync(ReadOnlyMemory<byte> buffer, long offset, CancellationToken cancellationToken = default)
        => Loop.WriteAtCore(Fd, buffer, offset, cancellationToken, "LoopFd.WriteAtAsync", this).AsValueTask();

    /// <summary>preadv at <paramref name="offset"/>: total bytes read.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> ReadAtAsync(IReadOnlyList<Memory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
        => Loop.ReadVCore(Fd, buffers, offset, cancellationToken, "LoopFd.ReadAtAsync", this).AsValueTask();

    /// <summary>pwritev at <paramref name="offset"/>: total bytes written.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<int> WriteAtAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, CancellationToken cancellationToken = default)
        => Loop.WriteVCore(Fd, buffers, offset, cancellationToken, "LoopFd.WriteAtAsync", this).AsValueTask();

    /// <summary>fsync(2) of the registered fd.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask FsyncAsync(CancellationToken cancellationToken = default)
        => Loop.SimpleFileCore(OperationKind.Fsync, Fd, cancellationToken, "LoopFd.FsyncAsync", this).AsVoidValueTask();

    /// <summary>fdatasync(2) of the registered fd.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask FdatasyncAsync(CancellationToken cancellationToken = default)
        => Loop.SimpleFileCore(OperationKind.Fdatasync, Fd, cancellationToken, "LoopFd.FdatasyncAsync", this).AsVoidValueTask();

    /// <summary>fallocate(2) of a byte range. See <see cref="Loop.FallocateAsync"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask FallocateAsync(long offset, long length, FallocateMode mode = FallocateMode.Default, CancellationToken cancellationToken = default)
        => Loop.FallocateCore(Fd, offset, length, mode, cancellationToken, "LoopFd.FallocateAsync", this).AsVoidValueTask();

    /// <summary>statx(2) of the registered fd. See <see cref="FileStatus"/>.</summary>
    /// <exception cref="ObjectDisposedException">The registration was disposed.</exception>
    public ValueTask<FileStatus> StatxAsync(CancellationToken cancellationToken = default)
        => Loop.StatxCore(Fd, null, 0, cancellationToken, "LoopFd.StatxAsync", this);
}
