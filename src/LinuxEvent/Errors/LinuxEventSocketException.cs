using System.Net.Sockets;

namespace LinuxEvent;

/// <summary>
/// A failed socket call (recv, send, accept4, connect, bind, listen, shutdown, sockopts...): a
/// <see cref="SocketException"/> with the matching <see cref="SocketException.SocketErrorCode"/>, so existing
/// <c>catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)</c> code works, that also carries
/// the errno, its name and the call (<see cref="ILinuxEventError"/>). The message reads like
/// <see cref="LinuxEventException"/>'s: <c>recv(fd=7) failed: ECONNRESET (104): Connection reset by peer</c>.
/// </summary>
public class LinuxEventSocketException : SocketException, ILinuxEventError
{
    private readonly string _message;

    /// <summary>Creates the exception for <paramref name="errno"/> raised by <paramref name="call"/>.</summary>
    /// <param name="errno">The positive errno value the kernel reported.</param>
    /// <param name="call">The call and its arguments, e.g. <c>connect(fd=7, 127.0.0.1:80)</c>.</param>
    /// <param name="detail">Optional extra explanation appended to the message.</param>
    public LinuxEventSocketException(int errno, string call, string? detail = null)
        : base((int)SocketErrors.FromErrno(errno))
    {
        ArgumentNullException.ThrowIfNull(call);
        Errno = errno;
        ErrnoName = LinuxEvent.Errno.Name(errno);
        Call = call;
        _message = LinuxEventException.FormatMessage(errno, call, detail);
    }

    /// <summary>Creates an exception for an unknown socket failure (for serializers and tests).</summary>
    public LinuxEventSocketException() : this(0, "socket call") { }

    /// <summary>Creates an exception with <paramref name="message"/> and no errno.</summary>
    public LinuxEventSocketException(string message) : base((int)SocketError.SocketError)
    {
        _message = message ?? "";
        ErrnoName = "E0";
        Call = "";
    }

    /// <summary>Creates an exception with <paramref name="message"/> wrapping <paramref name="innerException"/>, with no errno
    /// (<see cref="SocketException"/> has no inner-exception constructor: the inner exception is kept in <see cref="Exception.Data"/>
    /// under "InnerException").</summary>
    public LinuxEventSocketException(string message, Exception? innerException) : this(message)
    {
        if (innerException is not null) Data["InnerException"] = innerException;
    }

    /// <inheritdoc />
    public int Errno { get; }

    /// <inheritdoc />
    public string ErrnoName { get; }

    /// <inheritdoc />
    public string Call { get; }

    /// <inheritdoc />
    public override string Message => _message;
}
