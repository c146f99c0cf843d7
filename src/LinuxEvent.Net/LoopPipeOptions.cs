using System.Buffers;
using System.IO.Pipelines;

namespace LinuxEvent.Net;

/// <summary>Options of <see cref="LoopStream.AsDuplexPipe"/>. Immutable once the pipe is created.</summary>
public sealed record LoopPipeOptions
{
    /// <summary>Shared defaults.</summary>
    public static LoopPipeOptions Default { get; } = new();

    /// <summary>
    /// Where the application's continuations run: awaits on <see cref="LoopDuplexPipe.Input"/> reads and on
    /// <see cref="LoopDuplexPipe.Output"/> flushes. Default <see cref="PipeScheduler.ThreadPool"/>: application code never
    /// runs on the loop thread. <see cref="PipeScheduler.Inline"/> runs it on the loop thread, inside the loop's I/O
    /// dispatch: the fewest thread hops, for application code that never blocks (a blocking call would stall every
    /// connection of the loop).
    /// </summary>
    public PipeScheduler ApplicationScheduler { get; init; } = PipeScheduler.ThreadPool;

    /// <summary>Unread input, in bytes, at which the pipe stops reading the fd (default 64 KiB): the kernel's receive
    /// buffer, then TCP flow control, then hold the peer back.</summary>
    public long InputPauseThreshold { get; init; } = 64 * 1024;

    /// <summary>Unread input at which reading resumes after a pause (default 32 KiB).</summary>
    public long InputResumeThreshold { get; init; } = 32 * 1024;

    /// <summary>Output written by the application and not yet taken by the loop, at which <c>Output.FlushAsync</c>
    /// waits (default 64 KiB). The loop takes output only while the stream is below its
    /// <see cref="LoopStreamOptions.HighWatermark"/>, so a slow peer holds the application back here.</summary>
    public long OutputPauseThreshold { get; init; } = 64 * 1024;

    /// <summary>Output at which a waiting <c>Output.FlushAsync</c> resumes (default 32 KiB).</summary>
    public long OutputResumeThreshold { get; init; } = 32 * 1024;

    /// <summary>Pool of the pipes' buffers (default: the shared array pool).</summary>
    public MemoryPool<byte>? MemoryPool { get; init; }

    /// <summary>Smallest buffer segment the pipes rent (default 4096).</summary>
    public int MinimumSegmentSize { get; init; } = 4096;

    /// <summary>
    /// Turns the error that closed the stream (a <see cref="LinuxEventException"/> naming the call and errno) into the
    /// exception the application's <see cref="LoopDuplexPipe.Input"/> reads see. Default (null): an
    /// <see cref="IOException"/> with the stream's error as its inner exception. A transport uses it to raise the
    /// exceptions its framework expects (Kestrel: <c>ConnectionResetException</c> for ECONNRESET). Runs on the loop thread.
    /// </summary>
    public Func<Exception, Exception>? InputError { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(ApplicationScheduler, nameof(ApplicationScheduler));
        if (InputPauseThreshold < 1) throw new ArgumentOutOfRangeException(nameof(InputPauseThreshold), InputPauseThreshold, "LoopPipeOptions.InputPauseThreshold must be positive.");
        if (InputResumeThreshold < 0 || InputResumeThreshold > InputPauseThreshold)
            throw new ArgumentOutOfRangeException(nameof(InputResumeThreshold), InputResumeThreshold, "LoopPipeOptions.InputResumeThreshold must be in 0..InputPauseThreshold.");
        if (OutputPauseThreshold < 1) throw new ArgumentOutOfRangeException(nameof(OutputPauseThreshold), OutputPauseThreshold, "LoopPipeOptions.OutputPauseThreshold must be positive.");
        if (OutputResumeThreshold < 0 || OutputResumeThreshold > OutputPauseThreshold)
            throw new ArgumentOutOfRangeException(nameof(OutputResumeThreshold), OutputResumeThreshold, "LoopPipeOptions.OutputResumeThreshold must be in 0..OutputPauseThreshold.");
        if (MinimumSegmentSize < 1) throw new ArgumentOutOfRangeException(nameof(MinimumSegmentSize), MinimumSegmentSize, "LoopPipeOptions.MinimumSegmentSize must be positive.");
    }
}
