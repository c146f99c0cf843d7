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

    /// <summary>
    /// Creates the socket for each candidate endpoint; null (the default) creates a non-blocking, close-on-exec stream
    /// socket of the endpoint's family. The returned fd must be a non-blocking socket; the attempt owns it (closes it on
    /// failure, hands it over on success). Throw <see cref="LinuxEventException"/> to fail that candidate. For sockets
    /// that live elsewhere than the host's network stack: a simulated network (LinuxEvent.Simulation) returns its own.
    /// </summary>
    public Func<EndPoint, int>? SocketFactory { get; init; }
}
