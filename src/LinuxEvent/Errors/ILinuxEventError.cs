namespace LinuxEvent;

/// <summary>
/// What every kernel-call failure of this library carries, whichever exception type it is
/// (<see cref="LinuxEventException"/>, an <see cref="System.IO.IOException"/>, for files, pipes, epoll and io_uring;
/// <see cref="LinuxEventSocketException"/>, a <see cref="System.Net.Sockets.SocketException"/>, for socket calls):
/// <c>catch (Exception e) when (e is ILinuxEventError { Errno: Errno.ECONNRESET })</c>.
/// </summary>
public interface ILinuxEventError
{
    /// <summary>The errno value (positive).</summary>
    int Errno { get; }

    /// <summary>The symbolic errno name, e.g. <c>ECONNREFUSED</c>; <c>E&lt;number&gt;</c> when unknown.</summary>
    string ErrnoName { get; }

    /// <summary>The failed call and its salient arguments, e.g. <c>recv(fd=7)</c>.</summary>
    string Call { get; }
}
