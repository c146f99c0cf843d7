namespace LinuxEvent;

/// <summary>
/// A failed kernel call. Carries the errno value, its symbolic name (for example <c>EBADF</c>) and
/// the call with its salient arguments (for example <c>epoll_ctl(ADD, fd=7)</c>), so a log line alone
/// says what went wrong and where.
/// </summary>
public class LinuxEventException : IOException, ILinuxEventError
{
    /// <summary>Creates the exception for <paramref name="errno"/> raised by <paramref name="call"/>.</summary>
    /// <param name="errno">The positive errno value the kernel reported.</param>
    /// <param name="call">The call and its arguments, e.g. <c>epoll_ctl(ADD, fd=7)</c>.</param>
    /// <param name="detail">Optional extra explanation appended to the message.</param>
    public LinuxEventException(int errno, string call, string? detail = null)
        : base(FormatMessage(errno, call, detail), unchecked((int)0x80070000 | errno))
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

    /// <summary>Creates an exception for an unknown failure (for serializers and tests).</summary>
    public LinuxEventException() : this(0, "kernel call") { }

    /// <summary>Creates an exception with <paramref name="message"/> and no errno.</summary>
    public LinuxEventException(string message) : this(message, null) { }

    /// <summary>Creates an exception with <paramref name="message"/> wrapping <paramref name="innerException"/>, with no errno.</summary>
    public LinuxEventException(string message, Exception? innerException) : base(message, innerException)
    {
        ErrnoName = "E0";
        Call = "";
    }

    /// <summary>
    /// The exception a failed kernel call should surface as: <see cref="LinuxEventSocketException"/> (a
    /// <see cref="System.Net.Sockets.SocketException"/>) when <paramref name="socketCall"/>, else
    /// <see cref="LinuxEventException"/>. Both carry the errno, its name and the call (<see cref="ILinuxEventError"/>).
    /// </summary>
    public static Exception Create(int errno, string call, bool socketCall, string? detail = null)
        => socketCall ? new LinuxEventSocketException(errno, call, detail) : new LinuxEventException(errno, call, detail);

    internal static string FormatMessage(int errno, string call, string? detail)
        => detail is null
            ? $"{call} failed: {LinuxEvent.Errno.Name(errno)} ({errno}): {LinuxEvent.Errno.Message(errno)}"
            : $"{call} failed: {LinuxEvent.Errno.Name(errno)} ({errno}): {LinuxEvent.Errno.Message(errno)}. {detail}";

}
