namespace LinuxEvent.Simulation;

/// <summary>Something the network does at a virtual time: a segment arrives, a handshake step, a reset, a reader wakes up.</summary>
internal sealed class SimEvent(SimEventKind kind, SimSocket target, byte[]? data = null)
{
    public readonly SimEventKind Kind = kind;
    /// <summary>The socket it happens to (for a SYN: the connecting socket; the listener is <see cref="Listener"/>).</summary>
    public readonly SimSocket Target = target;
    public readonly byte[]? Data = data;
    public SimSocket? Listener;
}
