namespace LinuxEvent.Net;

/// <summary>Receives one decoded message. The span is valid only during the call.</summary>
public delegate void StreamMessageHandler(LoopStream stream, ReadOnlySpan<byte> message);
