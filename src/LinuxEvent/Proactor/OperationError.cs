namespace LinuxEvent;

/// <summary>An operation's failure: the errno, its name and the C library's message.</summary>
public sealed class OperationError
{
    internal OperationError(int errno)
    {
        Errno = errno;
        Name = LinuxEvent.Errno.Name(errno);
        Message = LinuxEvent.Errno.Message(errno);
    }

    /// <summary>The positive errno (e.g. 104).</summary>
    public int Errno { get; }
    /// <summary>The symbolic name (e.g. <c>ECONNRESET</c>).</summary>
    public string Name { get; }
    /// <summary>strerror text (e.g. "Connection reset by peer").</summary>
    public string Message { get; }

    /// <summary>An exception for this error, naming the operation.</summary>
    public LinuxEventException ToException(string call) => new(Errno, call);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Errno}): {Message}";

    private static readonly OperationError?[] s_cache = new OperationError?[256];

    /// <summary>Errors are immutable and few: cache one per errno so a failing op allocates nothing.</summary>
    internal static OperationError For(int errno)
    {
        if ((uint)errno >= (uint)s_cache.Length) return new OperationError(errno);
        return s_cache[errno] ??= new OperationError(errno);
    }
}
