using Microsoft.AspNetCore.Connections;

namespace LinuxEvent.AspNetCore;

/// <summary>The exceptions Kestrel expects from a transport, made from LinuxEvent's errno-carrying ones.</summary>
internal static class KestrelErrors
{
    private const int ECONNRESET = 104, EPIPE = 32, ETIMEDOUT = 110;

    /// <summary>A reset (or broken pipe, or a keepalive timeout) is a <see cref="ConnectionResetException"/>, which Kestrel
    /// logs as an ordinary disconnect; anything else stays an <see cref="IOException"/>.</summary>
    public static Exception ForInput(Exception error)
    {
        if (error is LinuxEventException { Errno: ECONNRESET or EPIPE or ETIMEDOUT } le)
            return new ConnectionResetException(le.Message, le);
        return new IOException(error.Message, error);
    }
}
