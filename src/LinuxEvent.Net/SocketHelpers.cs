using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>Socket plumbing shared by <see cref="Listener"/> and <see cref="Connector"/>, without unsafe code.</summary>
internal static class SocketHelpers
{
    /// <summary>A new non-blocking, close-on-exec stream socket of <paramref name="endpoint"/>'s family.</summary>
    public static int CreateStreamSocket(EndPoint endpoint, out int errno)
    {
        if (endpoint is not (UnixDomainSocketEndPoint or IPEndPoint))
            throw new ArgumentException($"Unsupported endpoint '{endpoint}' ({endpoint.AddressFamily}); use IPEndPoint or UnixDomainSocketEndPoint.", nameof(endpoint));
        try
        {
            errno = 0;
            return Posix.CreateStreamSocket(endpoint.AddressFamily);
        }
        catch (Exception ex) when (ex is ILinuxEventError le)      // LinuxEventSocketException for socket(2)
        {
            errno = le.Errno;
            return -1;
        }
    }

    /// <summary>The peer address of <paramref name="fd"/>, or null when it has none (unnamed Unix socket) or it reset already.</summary>
    public static EndPoint? PeerOf(int fd)
    {
        try { return Posix.GetRemoteEndPoint(fd); }
        catch (Exception e) when (e is ILinuxEventError) { return null; }         // ENOTCONN: reset between accept and now
    }

    public static string Describe(EndPoint ep) => ep is UnixDomainSocketEndPoint ? "unix:" + ep : ep.ToString() ?? "?";
}
