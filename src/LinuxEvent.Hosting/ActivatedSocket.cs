using System.Net;

namespace LinuxEvent.Hosting;

/// <summary>
/// A socket passed to this process by systemd socket activation (<c>LISTEN_FDS</c>). The hosted service owns the
/// fd: it stays open while the host runs and is closed when the host stops. Loops accept on duplicates of it
/// (<see cref="HostedLoop.ListenActivated"/>), so closing a loop's listener never closes the inherited socket.
/// </summary>
public sealed class ActivatedSocket
{
    internal ActivatedSocket(int fd, string name, bool isListening, EndPoint? localEndPoint)
    {
        Fd = fd;
        Name = name;
        IsListening = isListening;
        LocalEndPoint = localEndPoint;
    }

    /// <summary>The inherited fd (3, 4, ... in the order systemd passed them).</summary>
    public int Fd { get; }

    /// <summary>Its name from <c>LISTEN_FDNAMES</c> (the socket unit's <c>FileDescriptorName=</c>, by default the unit's
    /// name), or <c>"unknown"</c> when the launcher passed no names.</summary>
    public string Name { get; }

    /// <summary>True for a listening stream socket (<c>SO_ACCEPTCONN</c>): one <see cref="HostedLoop.ListenActivated"/>
    /// accepts on. False for datagram sockets, FIFOs and other fds (<c>Accept=no</c> units may pass those).</summary>
    public bool IsListening { get; }

    /// <summary>The address it is bound to (an <see cref="IPEndPoint"/> or a Unix endpoint), when it is a socket.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <inheritdoc />
    public override string ToString() => $"fd {Fd} '{Name}'{(LocalEndPoint is null ? "" : " " + LocalEndPoint)}{(IsListening ? " (listening)" : "")}";
}
