using System.Buffers;
using System.IO.Pipelines;

namespace LinuxEvent.Net;

/// <summary>
/// <see cref="LoopStream.AsDuplexPipe"/>: a <see cref="LoopStream"/> as an <see cref="IDuplexPipe"/> (System.IO.Pipelines),
/// the shape Kestrel and other pipeline code consume. The loop side of both pipes runs on the loop thread through a
/// <see cref="LoopPipeScheduler"/>; the application side may be any thread.
/// </summary>
/// <remarks>
/// <para><b>Input.</b> The stream reads in callback mode and copies each chunk into <see cref="Input"/>'s pipe, then
/// flushes. When the application leaves <see cref="LoopPipeOptions.InputPauseThreshold"/> bytes unread the flush waits,
/// and the stream stops reading (<see cref="LoopStream.PauseRead"/>) until the application has consumed down to
/// <see cref="LoopPipeOptions.InputResumeThreshold"/>: backpressure reaches the peer through TCP. The peer's EOF
/// completes the input; an I/O error completes it with that <see cref="IOException"/>. If the application completes
/// <see cref="Input"/> (it wants no more), reading stops and later input is discarded.</para>
/// <para><b>Output.</b> A pump on the loop thread reads <see cref="Output"/>'s pipe and writes each segment with
/// <see cref="LoopStream.Write"/> (on the reactor straight to send(2) when nothing is queued). While the stream is
/// write-blocked (its <see cref="LoopStreamOptions.HighWatermark"/>) the pump waits for it to drain, so the pipe fills
/// and the application's <c>Output.FlushAsync</c> waits past <see cref="LoopPipeOptions.OutputPauseThreshold"/>.
/// When the application completes <see cref="Output"/>, everything written goes out and then the write side is shut
/// down (<see cref="LoopStream.ShutdownWrite"/>: the peer reads EOF).</para>
/// <para><b>Closing.</b> When the output is done and the input has ended (EOF, or completed by the application) the
/// stream closes once its queue has drained. <see cref="DisposeAsync"/> closes it the same graceful way at any time;
/// <see cref="Abort"/> closes it at once, dropping queued output. After the stream closes, whatever the reason, the
/// input is completed and the output's reader too (the application's <c>FlushAsync</c> then reports
/// <see cref="FlushResult.IsCompleted"/>). <see cref="Completion"/> completes once all of that is over.</para>
/// <para><b>The stream's callbacks.</b> The pipe sets <see cref="LoopStream.OnData"/>, <see cref="LoopStream.OnEnd"/> and
/// <see cref="LoopStream.OnClose"/> (an <see cref="LoopStream.OnClose"/> set before still runs, after the pipe's). The
/// stream's <see cref="PeerEndBehavior"/> still applies at the peer's EOF: create it with
/// <see cref="PeerEndBehavior.HalfOpen"/> when the application may answer after the peer has finished sending (the
/// default, <see cref="PeerEndBehavior.CloseAfterDrain"/>, closes the connection once what is queued is written).</para>
/// <para><b>Threads.</b> <see cref="Input"/> and <see cref="Output"/> are used by the application from any thread, one
/// reader and one writer at a time, as for any pipe. <see cref="Abort"/> and <see cref="DisposeAsync"/> are
/// thread-safe (marshalled onto the loop).</para>
/// </remarks>
public sealed class LoopDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly LoopStream _stream;
    private readonly Loop _loop;
    private readonly Pipe _input, _output;
    private readonly Action<LoopStream, CloseReason>? _previousOnClose;
    private readonly Func<Exception, Exception>? _inputError;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _readEnded = new();
    private readonly Action _onInputFlushed;
    private ValueTask<FlushResult> _pendingFlush;
    private bool _inputDone, _outputDone, _streamClosed;
    private int _abortRequested;

    internal LoopDuplexPipe(LoopStream stream, LoopPipeOptions options)
    {
        _stream = stream;
        _loop = stream.Loop;
        var loopScheduler = new LoopPipeScheduler(_loop);
        // The loop writes the input and reads the output: those sides resume on the loop; the application's sides on
        // its scheduler. No synchronization context: the schedulers alone decide where continuations run.
        _input = new Pipe(new PipeOptions(options.MemoryPool, readerScheduler: options.ApplicationScheduler, writerScheduler: loopScheduler,
            pauseWriterThreshold: options.InputPauseThreshold, resumeWriterThreshold: options.InputResumeThreshold,
            minimumSegmentSize: options.MinimumSegmentSize, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(options.MemoryPool, readerScheduler: loopScheduler, writerScheduler: options.ApplicationScheduler,
            pauseWriterThreshold: options.OutputPauseThreshold, resumeWriterThreshold: options.OutputResumeThreshold,
            minimumSegmentSize: options.MinimumSegmentSize, useSynchronizationContext: false));
        _onInputFlushed = OnInputFlushed;
        _inputError = options.InputError;
        _previousOnClose = stream.OnClose;
        stream.OnData = static (s, data) => ((LoopDuplexPipe)s.PipeOwner!).OnData(data);
        stream.OnEnd = static s => ((LoopDuplexPipe)s.PipeOwner!).CompleteInput(null);
        stream.OnClose = static (s, reason) => ((LoopDuplexPipe)s.PipeOwner!).OnStreamClosed(reason);
        stream.PipeOwner = this;
        stream.Start();
        _ = PumpOutputAsync();
    }

    /// <summary>What the peer sent: read it from any thread (one reader at a time).</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>What goes to the peer: write and flush from any thread (one writer at a time).</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>The stream under the pipe (loop-thread only, like every <see cref="LoopStream"/>).</summary>
    public LoopStream Stream => _stream;

    /// <summary>Cancelled when reading ends: the peer's EOF, an error, or the stream's close. Its callbacks run on the
    /// thread pool, never on the loop thread.</summary>
    public CancellationToken ReadEnded => _readEnded.Token;

    /// <summary>Completes (never faults) once the stream has closed and the output pump has stopped.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Closes the stream at once (queued output is dropped) and ends both pipes: the application's pending
    /// read completes with <paramref name="reason"/> as its error (or as completed when null). Thread-safe; idempotent.</summary>
    public void Abort(Exception? reason = null)
    {
        if (Interlocked.Exchange(ref _abortRequested, 1) != 0) return;
        if (_loop.IsOnLoopThread) { AbortOnLoop(reason); return; }
        try { _loop.Post(static (_, s) => { var (p, r) = ((LoopDuplexPipe, Exception?))s!; p.AbortOnLoop(r); }, (this, reason)); }
        catch (ObjectDisposedException) { }           // the loop's disposal closes the stream
    }

    private void AbortOnLoop(Exception? reason)
    {
        CompleteInput(reason);
        _output.Reader.CancelPendingRead();
        _stream.Close();
    }

    /// <summary>
    /// Ends the connection gracefully and waits until <see cref="Completion"/>: completes the application's halves
    /// (<see cref="Input"/>'s reader and <see cref="Output"/>'s writer, if the application has not), so everything
    /// already written to <see cref="Output"/> still goes out, then the write side is shut down and the stream closes
    /// once its queue has drained. Thread-safe; idempotent. A peer that never reads keeps it waiting: use
    /// <see cref="Abort"/> to give up.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        // Completing a pipe's reader or writer is safe from any thread; the loop sees it through the pipes.
        _input.Reader.Complete();
        _output.Writer.Complete();
        if (_loop.IsOnLoopThread) CompleteInput(null);
        else
        {
            try { _loop.Post(static (_, s) => ((LoopDuplexPipe)s!).CompleteInput(null), this); }
            catch (ObjectDisposedException) { }          // the loop's disposal closes the stream
        }
        return new ValueTask(_completion.Task);
    }

    // ------------------------------------------------------------------ input (loop thread)

    private void OnData(ReadOnlySpan<byte> data)
    {
        if (_inputDone) return;                            // the application completed Input: discard
        _input.Writer.Write(data);
        var flush = _input.Writer.FlushAsync();
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted) InputReaderGone();
            return;
        }
        // The application is behind: stop reading until it catches up (the flush resumes on the loop).
        _stream.PauseRead();
        _pendingFlush = flush;
        flush.GetAwaiter().UnsafeOnCompleted(_onInputFlushed);
    }

    private void OnInputFlushed()
    {
        bool readerGone;
        try { readerGone = _pendingFlush.GetAwaiter().GetResult().IsCompleted; }
        catch (Exception) { readerGone = true; }
        _pendingFlush = default;
        if (readerGone) InputReaderGone();
        else if (!_inputDone) _stream.ResumeRead();
    }

    private void InputReaderGone()
    {
        CompleteInput(null);
        MaybeClose();
    }

    private void CompleteInput(Exception? error)
    {
        if (_inputDone) return;
        _inputDone = true;
        if (!_streamClosed) _stream.PauseRead();
        _input.Writer.Complete(error);
        SignalReadEnded();
        MaybeClose();
    }

    private void SignalReadEnded()
    {
        if (_readEnded.IsCancellationRequested) return;
        // Cancel runs registrations inline: application code must not run on the loop thread.
        ThreadPool.UnsafeQueueUserWorkItem(static cts => { try { cts.Cancel(); } catch (ObjectDisposedException) { } }, _readEnded, preferLocal: false);
    }

    // ------------------------------------------------------------------ output (loop thread)

    private async Task PumpOutputAsync()
    {
        // Every await here resumes on the loop thread: the output pipe's reader scheduler is the loop, and LoopStream's
        // awaitables always resume on the loop.
        Exception? error = null;
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (_stream.IsClosed)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    break;
                }
                WriteGathered(buffer);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    _stream.ShutdownWrite();
                    break;
                }
                // Backpressure: take no more from the pipe while the stream's queue is above its high watermark.
                if (_stream.IsWriteBlocked) await _stream.WriteAsync(ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The application completed Output with an error, or the stream closed under a drain wait.
            error = ex;
            if (!_streamClosed) _stream.Close();
        }
        reader.Complete(error);
        _outputDone = true;
        MaybeClose();
        TryFinish();
    }

    /// <summary>Scratch space of the loop thread for gathering a multi-segment write (the pump only runs there).</summary>
    [ThreadStatic] private static byte[]? t_gather;
    private const int GatherSize = 64 * 1024;

    /// <summary>
    /// Hands <paramref name="buffer"/> to the stream in as few writes as possible: a response that spans several pipe
    /// segments (headers in one, body in the next) would otherwise cost one send(2) per segment on the reactor, and one
    /// send round trip per segment on the proactor. Segments are copied into one scratch buffer of the loop thread, up
    /// to <see cref="GatherSize"/> at a time; a single segment goes as is.
    /// </summary>
    private void WriteGathered(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            _stream.Write(buffer.FirstSpan);
            return;
        }
        var scratch = t_gather ??= new byte[GatherSize];
        int used = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                int n = Math.Min(span.Length, GatherSize - used);
                span[..n].CopyTo(scratch.AsSpan(used));
                used += n;
                span = span[n..];
                if (used == GatherSize)
                {
                    _stream.Write(scratch);
                    used = 0;
                }
            }
        }
        if (used > 0) _stream.Write(scratch.AsSpan(0, used));
    }

    private void MaybeClose()
    {
        if (_outputDone && _inputDone && !_streamClosed) _stream.CloseAfterDrain();
    }

    // ------------------------------------------------------------------ end

    private void OnStreamClosed(CloseReason reason)
    {
        _streamClosed = true;
        Exception? error = null;
        if (reason is CloseReason.Error or CloseReason.CodecError && _stream.Error is { } cause)
        {
            try { error = _inputError?.Invoke(cause); }
            catch (Exception ex) { _loop.ReportException(ex); }
            error ??= new IOException($"{_stream}: {cause.Message}", cause);
        }
        CompleteInput(error);
        _output.Reader.CancelPendingRead();
        try { _previousOnClose?.Invoke(_stream, reason); }
        catch (Exception ex) { _loop.ReportException(ex); }
        TryFinish();
    }

    private void TryFinish()
    {
        if (!_streamClosed || !_outputDone) return;
        _completion.TrySetResult();
    }

    /// <inheritdoc />
    public override string ToString() => $"LoopDuplexPipe({_stream})";
}
