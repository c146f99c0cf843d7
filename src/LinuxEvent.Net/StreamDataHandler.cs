namespace LinuxEvent.Net;

/// <summary>Receives a chunk of bytes. The span is valid only during the call (it is the stream's receive buffer).</summary>
public delegate void StreamDataHandler(LoopStream stream, ReadOnlySpan<byte> data);
