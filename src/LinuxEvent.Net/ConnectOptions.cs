using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>Options of a <see cref="Connector"/> attempt.</summary>
public sealed class ConnectOptions
{
    /// <summary>Shared defaults.</summary>
    public static ConnectOptions Default { get; } = new();

    /// <summary>Budget for the whole attempt — name resolution and every candidate (default 30 s). On expiry the
    /// attempt fails with ETIMEDOUT. <see cref="Timeout.InfiniteTimeSpan"/> disables it.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Set TCP_NODELAY on the connected TCP socket (default true).</summary>
    public bool NoDelay { get; init; } = true;
}
