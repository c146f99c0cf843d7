namespace LinuxEvent;

/// <summary>
/// A failed kernel call. Carries the errno value, its symbolic name (for example <c>EBADF</c>) and
/// the call with its salient arguments (for example <c>epoll_ctl(ADD, fd=7)</c>), so a log line alone
/// says what went wrong and where.
/// </summary>
public class LinuxEventException : IOException
{
    /// <summary>Creates the exception for <paramref name="errno"/> raised by <paramref name="call"/>.</summary>
    /// <param name="errno">The positive errno value the kernel reported.</param>
    /// <param name="call">The call and its arguments, e.g. <c>epoll_ctl(ADD, fd=7)</c>.</param>
    /// <param name="detail">Optional extra explanation appended to the message.</param>
    public LinuxEventException(int errno, string call, string? detail = null)
        : base(Format(errno, call, detail), unchecked((int)0x80070000 | errno))
    {
        Errno = errno;
        ErrnoName = LinuxEvent.Errno.Name(errno);
        Call = call;
    }

    /// <summary>The errno value (positive).</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno name, e.g. <c>ECONNREFUSED</c>; <c>E&lt;number&gt;</c> when unknown.</summary>
    public string ErrnoName { get; }

    /// <summary>The failed call and its salient arguments.</summary>
    public string Call { get; }

    private static string Format(int errno, string call, string? detail)
        => detail is null
            ? $"{call} failed: {LinuxEvent.Errno.Name(errno)} ({errno}): {LinuxEvent.Errno.Message(errno)}"
            : $"{call} failed: {LinuxEvent.Errno.Name(errno)} ({errno}): {LinuxEvent.Errno.Message(errno)}. {detail}";

}
