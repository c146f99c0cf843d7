namespace LinuxEvent;

/// <summary>Receives one chunk of a multishot receive. The span is valid only during the call; the buffer returns to the pool afterwards.</summary>
public delegate void ReceiveHandler(Operation operation, ReadOnlySpan<byte> data);
