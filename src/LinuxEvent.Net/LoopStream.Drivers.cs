using System.Buffers;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    /// <summary>The model-specific half of a stream: how reads are armed and how queued bytes reach the kernel.</summary>
    private abstract class Driver
    {
        /// <summary>Arms or disarms reading (idempotent).</summary>
        public abstract void SetReading(bool on);

        /// <summary>Writes or queues <paramref name="data"/> (the stream checked it may write).</summary>
        public abstract void Write(ReadOnlySpan<byte> data);

        /// <summary>The stream appended to its output queue directly (an encoded message): start writing if idle.</summary>
        public abstract void Kick();

        /// <summary>Bytes handed to an in-flight kernel send and not yet confirmed.</summary>
        public virtual int InFlightBytes => 0;

        /// <summary>Stops all I/O and closes the fd if owned. Buffers a kernel op may still use are kept.</summary>
        public abstract void Close(bool closeFd);

        /// <summary>Returns buffers to the pool (now, or when the kernel's last operation on them settles).</summary>
        public abstract void ReleaseBuffers();

        protected static void CloseFd(int fd)
        {
            // EBADF: the owner closed it behind our back; there is nothing left to release.
            try { Posix.Close(fd); } catch (LinuxEventException) { }
        }
    }

    // ================================================================== reactor

    /// <summary>One level-triggered watcher: read interest while reading is wanted, write interest only while output is
    /// queued (so an idle connection costs no wakeups). Level-triggered on purpose: a read cap per wakeup cannot lose an
    /// edge, and pausing is just turning interest off.</summary>
    private sealed class ReactorDriver(LoopStream stream, ReactorLoop loop) : Driver
    {
        /// <summary>Reads per readiness report when the buffer keeps filling: fewer epoll round trips on a busy stream,
        /// bounded so one stream cannot starve the others (level triggering reports the rest next iteration).</summary>
        private const int MaxReadsPerWake = 4;

        private static readonly Action<Watcher> s_readable = static w => ((ReactorDriver)w.Data!).OnReadable();
        private static readonly Action<Watcher> s_writable = static w => ((ReactorDriver)w.Data!).OnWritable();

        private Watcher? _watcher;
        private bool _read, _write;
        private byte[]? _rx;

        public override void SetReading(bool on)
        {
            if (_read == on) return;
            _read = on;
            Apply();
        }

        private void Apply()
        {
            if (stream._closed) return;
            try
            {
                var w = _watcher;
                if (w is null || !w.IsActive)
                {
                    // Created lazily with real interest: a registration with an empty mask would still report EPOLLHUP,
                    // level-triggered, to a stream that wants nothing.
                    if (!_read && !_write) return;
                    w = loop.Watch(stream.Fd, (_read ? WatchOptions.Read : 0) | (_write ? WatchOptions.Write : 0), s_readable, s_writable);
                    w.Data = this;
                    _watcher = w;
                    return;
                }
                if (w.IsReadEnabled != _read) { if (_read) w.EnableRead(); else w.DisableRead(); }
                if (w.IsWriteEnabled != _write) { if (_write) w.EnableWrite(); else w.DisableWrite(); }
            }
            catch (LinuxEventException ex)
            {
                stream.FailDeferred(ex.Errno, "epoll_ctl");
            }
        }

        private int Send(ReadOnlySpan<byte> data) => stream._isSocket ? Posix.TrySend(stream.Fd, data) : Posix.TryWrite(stream.Fd, data);

        private void OnReadable()
        {
            var s = stream;
            if (s._closed) return;
            if (!_read)
            {
                // EPOLLHUP/EPOLLERR reach the read callback even without read interest: let a write attempt surface the
                // error rather than ignore a level-triggered report (which would repeat every iteration).
                if (_write) OnWritable();
                return;
            }
            _rx ??= ArrayPool<byte>.Shared.Rent(s._rxSize);
            var buffer = _rx.AsSpan(0, s._rxSize);
            for (int i = 0; i < MaxReadsPerWake; i++)
            {
                // Posix.TryReceive/TryRead retry EINTR themselves.
                int n = s._isSocket ? Posix.TryReceive(s.Fd, buffer) : Posix.TryRead(s.Fd, buffer);
                if (n > 0)
                {
                    s.OnReceived(buffer.Slice(0, n));
                    if (n < buffer.Length || !_read || s._closed) break;
                    continue;
                }
                if (n == 0) { s.OnPeerEof(); break; }
                if (n == -Errno.EAGAIN) break;
                s.Fail(-n, s._isSocket ? "recv" : "read");
                break;
            }
        }

        private void OnWritable()
        {
            var s = stream;
            if (s._closed) return;
            var queue = s._out;
            int sent = 0;
            while (queue.Length > 0)
            {
                var span = queue.Span;
                int n = Send(span);
                if (n > 0)
                {
                    queue.Consume(n);
                    sent += n;
                    if (n < span.Length) break;          // the socket buffer is full: the next try would be EAGAIN
                    continue;
                }
                if (n == -Errno.EAGAIN || n == 0) break;
                s.Fail(-n, s._isSocket ? "send" : "write");
                return;
            }
            bool want = queue.Length > 0;
            if (want != _write) { _write = want; Apply(); }
            s.OnWriteProgress(sent);
        }

        public override void Write(ReadOnlySpan<byte> data)
        {
            var s = stream;
            if (s._out.Length == 0 && !_write)
            {
                // Nothing queued: try the kernel at once; most writes on a healthy connection end here, copy-free.
                int n = Send(data);
                if (n == data.Length) { s.BytesSent += n; return; }
                if (n >= 0) { s.BytesSent += n; data = data.Slice(n); }
                else if (n != -Errno.EAGAIN) { s.FailDeferred(-n, s._isSocket ? "send" : "write"); return; }
            }
            s._out.Append(data);
            if (!_write) { _write = true; Apply(); }
        }

        public override void Kick()
        {
            if (_write) return;                           // writability is awaited; the queue goes out in order
            var s = stream;
            var queue = s._out;
            int n = Send(queue.Span);
            if (n > 0) { queue.Consume(n); s.BytesSent += n; }
            else if (n != -Errno.EAGAIN && n != 0) { s.FailDeferred(-n, s._isSocket ? "send" : "write"); return; }
            if (queue.Length > 0) { _write = true; Apply(); }
        }

        public override void Close(bool closeFd)
        {
            _read = _write = false;
            if (_watcher is { IsActive: true } w && !loop.IsDisposed) w.Cancel();
            _watcher = null;
            if (closeFd) CloseFd(stream.Fd);
        }

        public override void ReleaseBuffers()
        {
            if (_rx is not null) ArrayPool<byte>.Shared.Return(_rx);
            _rx = null;
        }
    }

    // ================================================================== proactor

    /// <summary>One receive in flight while reading is wanted and one send at a time, each an <see cref="Operation"/>
    /// created once and resubmitted (no allocation per chunk). Bytes being sent live in <see cref="_sending"/>, which is
    /// never appended to while its send is in flight (the kernel reads it), new writes queue behind it.</summary>
    private sealed class ProactorDriver(LoopStream stream, ProactorLoop loop) : Driver
    {
        private static readonly Action<Operation> s_received = static op => ((ProactorDriver)op.Data!).OnReceived(op);
        private static readonly Action<Operation> s_sent = static op => ((ProactorDriver)op.Data!).OnSent(op);

        private Operation? _recv, _send;
        private bool _recvBusy, _recvCancelRequested, _sendBusy, _releaseRequested;
        private byte[]? _rx;
        private ByteQueue _sending = new();

        public override int InFlightBytes => _sending.Length;

        public override void SetReading(bool on)
        {
            if (on)
            {
                // A receive being cancelled resubmits itself when it settles (WantsRead is checked then).
                if (!_recvBusy) SubmitReceive();
            }
            else if (_recvBusy && !_recvCancelRequested)
            {
                // Bytes the cancel races with are not lost: the stream keeps them for ResumeRead.
                _recvCancelRequested = true;
                _recv!.Cancel();
            }
        }

        private void SubmitReceive()
        {
            var s = stream;
            if (s._closed || loop.IsDisposed) return;
            _rx ??= ArrayPool<byte>.Shared.Rent(s._rxSize);
            var memory = new Memory<byte>(_rx, 0, s._rxSize);
            try
            {
                if (_recv is null)
                {
                    _recv = s._isSocket ? loop.Receive(s.Fd, memory, s_received) : loop.Read(s.Fd, memory, -1, s_received);
                    _recv.Data = this;                    // before any dispatch: callbacks never run inline from a submit
                }
                else loop.Resubmit(_recv, memory);
            }
            catch (LinuxEventException ex)
            {
                s.FailDeferred(ex.Errno, "io_uring submit");
                return;
            }
            _recvBusy = true;
            _recvCancelRequested = false;
        }

        private void OnReceived(Operation op)
        {
            _recvBusy = false;
            bool cancelledByUs = _recvCancelRequested;
            _recvCancelRequested = false;
            var s = stream;
            if (s._closed)
            {
                if (_releaseRequested) ReturnRx();
                return;
            }
            switch (op.State)
            {
                case OperationState.Completed:
                    if (op.Result == 0) { s.OnPeerEof(); return; }
                    s.OnReceived(new ReadOnlySpan<byte>(_rx, 0, op.Result));
                    break;
                case OperationState.Failed:
                    int errno = op.Error!.Errno;
                    if (errno is Errno.EINTR or Errno.EAGAIN) break;          // retry: resubmitted below
                    s.Fail(errno, s._isSocket ? "recv" : "read");
                    return;
                case OperationState.Cancelled:
                    // Not ours: the loop cancels everything when it is disposed.
                    if (!cancelledByUs) { s.FinishClose(Net.CloseReason.LoopDisposed, null); return; }
                    break;
            }
            if (!s._closed && s.WantsRead && !_recvBusy) SubmitReceive();
        }

        public override void Write(ReadOnlySpan<byte> data)
        {
            stream._out.Append(data);
            Kick();
        }

        public override void Kick()
        {
            var s = stream;
            if (_sendBusy || s._closed || loop.IsDisposed) return;
            if (_sending.Length == 0)
            {
                if (s._out.Length == 0) return;
                // Swap queues: what was waiting becomes the in-flight batch, new writes append to the emptied one.
                (_sending, s._out) = (s._out, _sending);
            }
            var memory = _sending.Memory;
            try
            {
                if (_send is null)
                {
                    _send = s._isSocket ? loop.Send(s.Fd, memory, s_sent) : loop.Write(s.Fd, memory, -1, s_sent);
                    _send.Data = this;
                }
                else loop.Resubmit(_send, memory);
            }
            catch (LinuxEventException ex)
            {
                s.FailDeferred(ex.Errno, "io_uring submit");
                return;
            }
            _sendBusy = true;
        }

        private void OnSent(Operation op)
        {
            _sendBusy = false;
            var s = stream;
            if (s._closed)
            {
                if (_releaseRequested) _sending.Release();
                return;
            }
            switch (op.State)
            {
                case OperationState.Completed:
                    int sent = op.Result;                 // read before Kick: resubmitting resets the operation
                    _sending.Consume(sent);               // a short send resubmits the rest from the right offset
                    Kick();
                    s.OnWriteProgress(sent);
                    return;
                case OperationState.Failed:
                    int errno = op.Error!.Errno;
                    if (errno is Errno.EINTR or Errno.EAGAIN) { Kick(); return; }
                    s.Fail(errno, s._isSocket ? "send" : "write");
                    return;
                default:
                    // The stream never cancels a send while open: this is the loop's disposal.
                    s.FinishClose(Net.CloseReason.LoopDisposed, null);
                    return;
            }
        }

        public override void Close(bool closeFd)
        {
            // io_uring holds its own reference to the file for each operation, so closing the number does not stop
            // them: cancel first. They settle later (Cancelled, or with a result that is then ignored); their buffers
            // are released only then. During the loop's disposal the loop cancels them itself.
            if (!loop.IsDisposed)
            {
                if (_recvBusy && !_recvCancelRequested) { _recvCancelRequested = true; _recv!.Cancel(); }
                if (_sendBusy) _send!.Cancel();
                // A receive or send queued in this iteration still names the fd by number: submit it before the fd is
                // closed (here when owned, by the owner otherwise).
                if (_recvBusy || _sendBusy) loop.FlushSubmissions("LoopStream.Close");
            }
            if (closeFd) CloseFd(stream.Fd);
        }

        public override void ReleaseBuffers()
        {
            _releaseRequested = true;
            if (!_recvBusy) ReturnRx();
            if (!_sendBusy) _sending.Release();
        }

        private void ReturnRx()
        {
            if (_rx is not null) ArrayPool<byte>.Shared.Return(_rx);
            _rx = null;
        }
    }
}
