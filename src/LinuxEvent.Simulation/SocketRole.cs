namespace LinuxEvent.Simulation;

/// <summary>What a simulated socket is.</summary>
internal enum SocketRole : byte
{
    /// <summary>Created, not connected (or a connection attempt that failed).</summary>
    Unbound,
    Listening,
    Connecting,
    Connected,
}
