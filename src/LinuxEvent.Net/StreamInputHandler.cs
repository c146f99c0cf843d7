namespace LinuxEvent.Net;

/// <summary>
/// Receives all unconsumed input of a stream (see <see cref="LoopStream.OnInput"/>) and returns how many bytes, from the
/// start, it consumed (0..<paramref name="input"/>.Length). The span is valid only during the call.
/// </summary>
public delegate int StreamInputHandler(LoopStream stream, ReadOnlySpan<byte> input);
