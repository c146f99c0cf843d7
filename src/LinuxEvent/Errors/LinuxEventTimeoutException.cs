using System.Globalization;

namespace LinuxEvent;

/// <summary>
/// An I/O call whose deadline passed before the kernel completed it (the <c>TimeSpan timeout</c> overloads of the async
/// API, and <see cref="Operation.GetResultOrThrow"/> for a <see cref="OperationState.TimedOut"/> operation). A
/// <see cref="TimeoutException"/>, so <c>catch (TimeoutException)</c> works; it also carries the call it names, like
/// every error of this library (<see cref="ILinuxEventError"/>, with <see cref="Errno"/> = ETIMEDOUT), and the timeout.
/// The operation is over: the kernel cancelled it, and no data was transferred by it.
/// </summary>
public class LinuxEventTimeoutException : TimeoutException, ILinuxEventError
{
    /// <summary>Creates the exception for <paramref name="call"/> (e.g. <c>recv(fd=7)</c>) that did not complete within
    /// <paramref name="timeout"/>.</summary>
    public LinuxEventTimeoutException(string call, TimeSpan timeout)
        : base(string.Create(CultureInfo.InvariantCulture, $"{call} timed out: it did not complete within {timeout.TotalMilliseconds:0.###} ms."))
    {
        ArgumentNullException.ThrowIfNull(call);
        Call = call;
        Timeout = timeout;
    }

    /// <summary>Creates an exception with no call (for serializers and tests).</summary>
    public LinuxEventTimeoutException() : this("I/O call", TimeSpan.Zero) { }

    /// <summary>Creates an exception with <paramref name="message"/> and no call.</summary>
    public LinuxEventTimeoutException(string message) : base(message) => Call = "";

    /// <summary>Creates an exception with <paramref name="message"/> wrapping <paramref name="innerException"/>.</summary>
    public LinuxEventTimeoutException(string message, Exception? innerException) : base(message, innerException) => Call = "";

    /// <summary>ETIMEDOUT (110): the errno a timed-out call maps to.</summary>
    public int Errno => LinuxEvent.Errno.ETIMEDOUT;

    /// <inheritdoc />
    public string ErrnoName => "ETIMEDOUT";

    /// <summary>The call that timed out and its salient arguments, e.g. <c>recv(fd=7)</c>.</summary>
    public string Call { get; }

    /// <summary>The timeout the call was given.</summary>
    public TimeSpan Timeout { get; }
}
