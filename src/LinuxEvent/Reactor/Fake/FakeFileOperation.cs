using LinuxEvent.Files;

namespace LinuxEvent;

/// <summary>
/// A file operation waiting on a fake reactor (<see cref="FakeReadiness.PendingFileOperations"/>): what a worker thread
/// would run, for the test to settle with <see cref="FakeReadiness.Complete(FakeFileOperation, int)"/>,
/// <see cref="FakeReadiness.CompleteRead"/>, <see cref="FakeReadiness.CompleteStatx"/> or
/// <see cref="FakeReadiness.Fail(FakeFileOperation, int)"/>.
/// </summary>
public sealed class FakeFileOperation
{
    internal FakeFileOperation(FileRequest request)
    {
        Request = request;
        Kind = request.Kind;
        FileDescriptor = request.Fd;
        Offset = request.Offset;
        Length = request.Length;
        Path = request.PathText;
        Flags = request.Flags;
    }

    /// <summary>The request while pending; null once settled.</summary>
    internal FileRequest? Request { get; set; }

    /// <summary>The syscall a worker would run: Read (pread), Write (pwrite), ReadV, WriteV, Fsync, Fdatasync, OpenAt,
    /// Statx, Fallocate or Close.</summary>
    public OperationKind Kind { get; }

    /// <summary>The fd (for OpenAt, and Statx by path, the directory fd: -100 is AT_FDCWD).</summary>
    public int FileDescriptor { get; }

    /// <summary>The file offset of a read, write or fallocate; -1 otherwise.</summary>
    public long Offset { get; }

    /// <summary>Bytes asked for (the sum of a vector), or fallocate's length.</summary>
    public long Length { get; }

    /// <summary>The path of an OpenAt or a Statx by path.</summary>
    public string? Path { get; }

    /// <summary>The native flags: O_* of an OpenAt, AT_* of a Statx, the FALLOC_FL_* mode of a Fallocate.</summary>
    public int Flags { get; }

    /// <summary>True once settled (by the test, a cancellation or the loop's disposal).</summary>
    public bool IsSettled => Request is null;

    /// <inheritdoc />
    public override string ToString() => $"{Kind}(fd={FileDescriptor}, offset={Offset}, length={Length}{(Path is null ? "" : ", path=" + Path)}){(IsSettled ? " settled" : "")}";
}
