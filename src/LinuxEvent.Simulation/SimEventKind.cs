namespace LinuxEvent.Simulation;

internal enum SimEventKind : byte
{
    /// <summary>Data arrives in the target's receive buffer (from its peer).</summary>
    Data,
    /// <summary>The peer's FIN arrives: the target reads EOF after its data.</summary>
    Fin,
    /// <summary>A RST arrives: the target's connection is reset.</summary>
    Rst,
    /// <summary>A connection request arrives at <see cref="SimEvent.Listener"/> from the target (the connecting socket).</summary>
    Syn,
    /// <summary>The handshake completes at the connecting side.</summary>
    SynAck,
    /// <summary>The connect is refused (nobody listens there): the target gets ECONNREFUSED.</summary>
    Refused,
    /// <summary>Room freed at the peer reaches the sender (a window update): the target may write again.</summary>
    Window,
    /// <summary>The target's application resumes reading (end of a StopReading fault), or retries after a spurious EAGAIN.</summary>
    Wake,
}
