using Microsoft.AspNetCore.Connections;

namespace LinuxEvent.AspNetCore;

/// <summary>The exceptions Kestrel expects from a transport, made from LinuxEvent's errno-carrying ones.</summary>
internal static class KestrelErrors
{
    private const int ECONNRESET = 104, EPIPE = 32, ETIMEDOUT = 110;

    /// <summary>A bind failure other than EADDRINUSE, as the <see cref="System.Net.Sockets.SocketException"/> the sockets
    /// transport would raise, with LinuxEvent's exception (errno, call) as the message.</summary>
    public static System.Net.Sockets.SocketException ForBind(ILinuxEventError error, System.Net.EndPoint endpoint)
    {
        var code = error.Errno switch
        {
            13 => System.Net.Sockets.SocketError.AccessDenied,                  // EACCES: a privileged port
            97 => System.Net.Sockets.SocketError.AddressFamilyNotSupported,     // EAFNOSUPPORT: no IPv6 here
            99 => System.Net.Sockets.SocketError.AddressNotAvailable,           // EADDRNOTAVAIL: not a local address
            _ => System.Net.Sockets.SocketError.SocketError,
        };
        return new System.Net.Sockets.SocketException((int)code, $"LinuxEvent transport: cannot bind {endpoint}: {((Exception)error).Message}");
    }

    /// <summary>A reset (or broken pipe, or a keepalive timeout) is a <see cref="ConnectionResetException"/>, which Kestrel
    /// logs as an ordinary disconnect; anything else stays an <see cref="IOException"/>.</summary>
    public static Exception ForInput(Exception error)
    {
        if (error is ILinuxEventError { Errno: ECONNRESET or EPIPE or ETIMEDOUT })
            return new ConnectionResetException(error.Message, error);
        return new IOException(error.Message, error);
    }
}
