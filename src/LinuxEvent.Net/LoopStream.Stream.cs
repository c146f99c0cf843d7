namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    /// <summary>
    /// This stream as a <see cref="System.IO.Stream"/> (byte mode) whose calls complete on the loop; calls made on it
    /// from other threads are marshalled onto the loop. Disposing it closes this stream once its queued output has
    /// drained (<see cref="CloseAfterDrain"/>). See <see cref="AsStream(bool)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stream has a codec or is in callback mode (<see cref="Start"/>).</exception>
    public Stream AsStream() => AsStream(leaveOpen: false);

    /// <summary>
    /// This stream as a <see cref="System.IO.Stream"/> (byte mode) for code that expects one: <c>SslStream</c>,
    /// <c>StreamReader</c>, <c>CopyToAsync</c>, a protocol library.
    /// </summary>
    /// <param name="leaveOpen">False (the default of <see cref="AsStream()"/>): disposing the adapter closes this
    /// stream, gracefully (<see cref="CloseAfterDrain"/>: queued output is still written, then the fd is closed if
    /// owned). True: disposing the adapter leaves this stream open.</param>
    /// <remarks>
    /// <para><b>Threads.</b> Any thread may call it. On the loop thread, <c>ReadAsync</c>/<c>WriteAsync</c>/<c>FlushAsync</c>
    /// are this stream's own calls (no marshalling, no allocation). From another thread each call is posted to the loop
    /// (<see cref="Loop.Post(Action{Loop, object?}, object?)"/>), runs there, and its awaiter resumes on the thread pool
    /// (or the caller's captured context), never on the loop thread; steady-state calls allocate nothing. This is what
    /// lets <c>SslStream</c>, which calls its inner stream from thread-pool threads, run on either model.</para>
    /// <para><b>Reading.</b> <c>ReadAsync</c> returns what is buffered (at most the buffer's length), waits when nothing
    /// is, and returns 0 at the peer's EOF or after a close. A zero-length read waits for input without consuming it.
    /// Cancelling the token cancels the wait with <see cref="OperationCanceledException"/>; no byte is lost.</para>
    /// <para><b>Writing.</b> <c>WriteAsync</c> copies the bytes into the write queue (the caller may reuse its buffer once
    /// it completes) and completes when the queue is below <see cref="LoopStreamOptions.HighWatermark"/>, or else once
    /// it has drained to <see cref="LoopStreamOptions.LowWatermark"/>: that is the backpressure. <c>FlushAsync</c>
    /// completes when the queue is empty (every byte accepted by the kernel). Cancelling a write's token stops the wait,
    /// not the write. Errors surface as <see cref="IOException"/> (a <see cref="LinuxEventException"/> names the errno).</para>
    /// <para><b>Synchronous calls</b> (<c>Read</c>, <c>Write</c>, <c>Flush</c>) from another thread block that thread
    /// until the loop completes them, so some thread must be running the loop. On the loop thread <c>Read</c> and
    /// <c>Write</c> would wait for the very loop they block: they throw <see cref="InvalidOperationException"/>;
    /// <c>Flush</c> there returns at once (the queue drains by itself; await <c>FlushAsync</c> to wait).</para>
    /// <para><b>Capabilities.</b> <c>CanRead</c> and <c>CanWrite</c> are true until the adapter is disposed;
    /// <c>CanSeek</c> is false (<c>Length</c>, <c>Position</c>, <c>Seek</c>, <c>SetLength</c> throw
    /// <see cref="NotSupportedException"/>). One read and one write may be outstanding at a time, as for a socket.</para>
    /// <para>Using the adapter puts this stream in async read mode: <see cref="Start"/> is refused afterwards.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The stream has a codec or is in callback mode (<see cref="Start"/>),
    /// or the call is not on the loop thread.</exception>
    public Stream AsStream(bool leaveOpen)
    {
        Loop.CheckLoopThread("LoopStream.AsStream");
        if (_codec is not null) throw new InvalidOperationException("LoopStream.AsStream: the stream has a codec; a Stream carries bytes (create the LoopStream without LoopStreamOptions.Codec).");
        EnterAsyncRead(nameof(AsStream));
        return new LoopStreamAdapter(this, leaveOpen);
    }
}
