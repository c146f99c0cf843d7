namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    /// <summary>The duplex pipe that took over this stream's callbacks, if any.</summary>
    internal object? PipeOwner
    {
        get => _x?.PipeOwner;
        set { if (value is not null || _x is not null) X.PipeOwner = value; }  // in Extras: most streams have none
    }

    /// <summary>
    /// This stream as an <see cref="System.IO.Pipelines.IDuplexPipe"/> (byte mode): the application reads
    /// <see cref="LoopDuplexPipe.Input"/> and writes <see cref="LoopDuplexPipe.Output"/> from any thread, while the loop
    /// moves bytes between the pipes and the fd. See <see cref="LoopDuplexPipe"/> for threading, backpressure and closing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stream has a codec, is already read (callback or async mode, or
    /// through <see cref="AsStream()"/>), is closed, or the call is not on the loop thread.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Inconsistent <paramref name="options"/>.</exception>
    public LoopDuplexPipe AsDuplexPipe(LoopPipeOptions? options = null)
    {
        Loop.CheckLoopThread("LoopStream.AsDuplexPipe");
        var o = options ?? LoopPipeOptions.Default;
        o.Validate();
        if (_codec is not null) throw new InvalidOperationException("LoopStream.AsDuplexPipe: the stream has a codec; a pipe carries bytes (create the LoopStream without LoopStreamOptions.Codec).");
        if (_mode != ReadMode.None || PipeOwner is not null) throw new InvalidOperationException("LoopStream.AsDuplexPipe: the stream is already being read (Start, ReadAsync, AsStream or another pipe); one stream has one reader.");
        if (Is(State.Closed)) throw new InvalidOperationException($"LoopStream.AsDuplexPipe: the stream is closed ({CloseReason}).");
        return new LoopDuplexPipe(this, o);
    }
}
