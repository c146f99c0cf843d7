using System.Runtime.CompilerServices;
using LinuxEvent.Async;
using LinuxEvent.Files;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent;

// The rules of every file operation, written once for both models and for the fd-number and LoopFd forms: arguments,
// the loop-thread rule, a disposed registration, a cancelled token; then one pooled awaitable whose FileRequest carries
// the arguments across the seam (IoDriver.StartFile).
public abstract partial class Loop
{
    internal IoStart ReadAtCore(int fd, Memory<byte> buffer, long offset, CancellationToken token, string call, LoopFd? via,
        long timeoutNs = AsyncOp.NoTimeout)
    {
        if (!BeginFile(fd, offset, call, via, token)) return IoStart.Canceled(token);
        var op = RentFile(OperationKind.Read, fd, call, token);
        var f = op.File!;
        f.Buffer = buffer;
        f.Offset = offset;
        f.Length = buffer.Length;
        op.TimeoutNs = timeoutNs;
        return StartFile(op);
    }

    internal IoStart WriteAtCore(int fd, ReadOnlyMemory<byte> buffer, long offset, CancellationToken token, string call, LoopFd? via,
        long timeoutNs = AsyncOp.NoTimeout)
    {
        if (!BeginFile(fd, offset, call, via, token)) return IoStart.Canceled(token);
        var op = RentFile(OperationKind.Write, fd, call, token);
        var f = op.File!;
        f.ConstBuffer = buffer;
        f.Offset = offset;
        f.Length = buffer.Length;
        op.TimeoutNs = timeoutNs;
        return StartFile(op);
    }

    internal IoStart ReadVCore(int fd, IReadOnlyList<Memory<byte>> buffers, long offset, CancellationToken token, string call, LoopFd? via)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        CheckVector(buffers.Count, call);
        if (!BeginFile(fd, offset, call, via, token)) return IoStart.Canceled(token);
        long total = 0;
        for (int i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        var op = RentFile(OperationKind.ReadV, fd, call, token);
        var f = op.File!;
        f.Buffers = buffers;
        f.Offset = offset;
        f.Length = total;
        return StartFile(op);
    }

    internal IoStart WriteVCore(int fd, IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset, CancellationToken token, string call, LoopFd? via)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        CheckVector(buffers.Count, call);
        if (!BeginFile(fd, offset, call, via, token)) return IoStart.Canceled(token);
        long total = 0;
        for (int i = 0; i < buffers.Count; i++) total += buffers[i].Length;
        var op = RentFile(OperationKind.WriteV, fd, call, token);
        var f = op.File!;
        f.ConstBuffers = buffers;
        f.Offset = offset;
        f.Length = total;
        return StartFile(op);
    }

    /// <summary>fsync, fdatasync, close: the fd is the only argument.</summary>
    internal IoStart SimpleFileCore(OperationKind kind, int fd, CancellationToken token, string call, LoopFd? via)
    {
        if (!BeginFile(fd, 0, call, via, token)) return IoStart.Canceled(token);
        return StartFile(RentFile(kind, fd, call, token));
    }

    internal IoStart FallocateCore(int fd, long offset, long length, FallocateMode mode, CancellationToken token, string call, LoopFd? via)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, $"{call}: the length must be positive.");
        if (!BeginFile(fd, offset, call, via, token)) return IoStart.Canceled(token);
        var op = RentFile(OperationKind.Fallocate, fd, call, token);
        var f = op.File!;
        f.Offset = offset;
        f.Length = length;
        f.Flags = (int)mode;
        return StartFile(op);
    }

    private IoStart OpenAtCore(int directoryFd, string path, FileOpenFlags flags, UnixFileMode mode, CancellationToken token, string call)
    {
        int oflags = FileOpenFlagsNative.ToNative(flags, call);
        if (((int)mode & ~0xFFF) != 0) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{call}: only permission, set-id and sticky bits may be given.");
        var bytes = FileRequest.EncodePath(path, call);
        CheckThread(call);
        if (token.IsCancellationRequested) return IoStart.Canceled(token);
        var op = RentFile(OperationKind.OpenAt, directoryFd, call, token);
        var f = op.File!;
        f.Path = bytes;
        f.PathText = path;
        f.Flags = oflags;
        f.Mode = (int)mode;
        return StartFile(op);
    }

    internal ValueTask<FileStatus> StatxCore(int fd, (byte[] Bytes, string Text)? path, int flags, CancellationToken token, string call, LoopFd? via)
    {
        if (path is null)
        {
            if (!BeginFile(fd, 0, call, via, token)) return ValueTask.FromCanceled<FileStatus>(token);
        }
        else
        {
            CheckThread(call);
            if (token.IsCancellationRequested) return ValueTask.FromCanceled<FileStatus>(token);
        }
        // The kernel writes the result into this block, which must stay put until the operation's own completion: a
        // pinned-heap array never moves and belongs to this call alone.
        var block = GC.AllocateUninitializedArray<byte>(StatxLayout.Size, pinned: true);
        var op = RentFile(OperationKind.Statx, fd, call, token);
        var f = op.File!;
        f.Buffer = block;
        f.StatxBlock = block;
        f.Path = path?.Bytes ?? FileRequest.EmptyPath;
        f.PathText = path?.Text;
        f.Flags = path is null ? Libc.AT_EMPTY_PATH : flags;
        f.Mode = (int)FileStatus.RequestMask;
        var started = StartFile(op).AsValueTask();
        if (started.IsCompletedSuccessfully)
        {
            _ = started.Result;             // consumes the awaitable (returns it to the pool)
            return new ValueTask<FileStatus>(FileStatus.Read(block));
        }
        return AwaitStatus(started, block);
    }

    private static async ValueTask<FileStatus> AwaitStatus(ValueTask<int> started, byte[] block)
    {
        await started.ConfigureAwait(true);
        return FileStatus.Read(block);
    }

    // ------------------------------------------------------------------ the rules, once

    /// <summary>
    /// The checks of an fd-based file call: the fd and offset, the loop-thread rule (also "not disposed"), a disposed
    /// registration. Returns false if the token is already cancelled (nothing was started).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool BeginFile(int fd, long offset, string call, LoopFd? via, CancellationToken token)
    {
        if (fd < 0) ThrowHelper.NegativeFd(call, fd);
        if (offset < 0) ThrowNegativeOffset(call, offset);
        CheckThread(call);
        via?.ThrowIfDisposed(call);
        return !token.IsCancellationRequested;
    }

    private static void CheckVector(int count, string call)
    {
        if (count > MaxVectorLength)
            throw new ArgumentOutOfRangeException("buffers", count, $"{call}: at most {MaxVectorLength} buffers (IOV_MAX) per call.");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNegativeOffset(string call, long offset)
        => throw new ArgumentOutOfRangeException(nameof(offset), offset, $"{call}: the file offset must not be negative.");

    /// <summary>A pooled awaitable carrying a reset request of <paramref name="kind"/> on <paramref name="fd"/>.</summary>
    private AsyncOp RentFile(OperationKind kind, int fd, string call, CancellationToken token)
    {
        var op = RentAsyncOp(AsyncKind.File, token);
        op.Fd = fd;
        op.Reading = false;
        (op.File ??= new FileRequest()).Reset(kind, fd, call);
        return op;
    }

    /// <summary>Hands the request to the model's driver, then arms the token (the driver may already have settled it).</summary>
    private IoStart StartFile(AsyncOp op)
    {
        Driver.StartFile(op);
        op.Armed();
        ArmDeadline(op);
        return IoStart.Pending(op);
    }
}
