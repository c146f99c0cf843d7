using LinuxEvent.Net;

namespace LinuxEvent.AspNetCore;

/// <summary>
/// A connection served by the LinuxEvent transport: its loop and stream. Get it with
/// <c>context.Features.Get&lt;ILoopConnectionFeature&gt;()</c> (in middleware: <c>HttpContext.Features</c>).
/// </summary>
public interface ILoopConnectionFeature
{
    /// <summary>The loop that accepted the connection and does all its I/O. <see cref="Loop.Post(Action{Loop})"/> runs
    /// work there.</summary>
    Loop Loop { get; }

    /// <summary>The connection's stream: loop-thread only, like every <see cref="LoopStream"/> (for statistics such as
    /// <see cref="LoopStream.BytesReceived"/>, read them from the loop).</summary>
    LoopStream Stream { get; }
}
