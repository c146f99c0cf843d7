using System.Net;
using System.Runtime.InteropServices;
using LinuxEvent;

namespace LinuxEvent.Examples.EchoServer;

/// <summary>
/// Proactor echo server, the same algorithm as peers/echo_uring.c: one multishot accept; per connection exactly one
/// operation in flight — recv into the connection's 64 KiB buffer, send it back (resubmitting the tail after a short
/// send), recv again. Every operation object is created once per connection and reused with
/// <see cref="ProactorLoop.Resubmit(Operation)"/>, so the steady state allocates nothing.
/// With <c>--recv multishot</c> each connection instead keeps one multishot recv armed on a shared provided-buffer
/// pool and copies each chunk into its output buffer.
/// </summary>
internal sealed class ProactorEchoServer : IEchoServer
{
    private const int BufferSize = 64 * 1024;
    private const int PoolBuffers = 512;            // multishot: shared provided-buffer pool (power of two)
    private const int PoolBufferSize = 16 * 1024;
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    private sealed class Connection
    {
        public required ProactorEchoServer Server;
        public required int Fd;
        public byte[] Buffer = null!;               // pinned (POH): Memory.Pin() needs no GCHandle
        public Memory<byte> Memory;                 // CreateFromPinnedArray over Buffer
        public int Offset, Length;                  // output [Offset, Length)
        public byte[]? Next;                        // multishot: data that arrived while a send was in flight
        public Memory<byte> NextMemory;
        public int NextLength;
        public Operation? Receive, Send;
        public bool Closing;
        public bool ReceiveEnded;                   // multishot: end-of-stream seen; close once the output is sent
    }

    private readonly Action<Operation, int> _onAccepted;
    private readonly Action<Operation> _onAcceptEnd;
    private static readonly Action<Operation> s_onReceived = static op => OnReceived((Connection)op.Data!, op);
    private static readonly Action<Operation> s_onSent = static op => OnSent((Connection)op.Data!, op);
    private static readonly ReceiveHandler s_onChunk = static (op, data) => OnChunk((Connection)op.Data!, data);
    private static readonly Action<Operation> s_onReceiveEnd = static op => OnReceiveEnd((Connection)op.Data!, op);

    private readonly Counters _stats = Counters.Register();
    private ProactorLoop _loop = null!;
    private int _listener = -1;
    private Operation? _accept;
    private bool _stopping, _multishot;
    private ProvidedBufferPool? _pool;
    private Connection?[] _connections = new Connection?[256];
    private int _open;
    private Action? _drained;                       // set while draining (graceful stop)
    private TimerHandle? _acceptBackoff;

    public ProactorEchoServer()
    {
        _onAccepted = OnAccepted;
        _onAcceptEnd = OnAcceptEnd;
    }

    public void Run(IPEndPoint endpoint, EchoOptions options)
    {
        var loop = Loop.CreateProactor();
        try
        {
            Stats.SubscribeSignals(loop, options, this);
            Setup(loop, endpoint, options, reusePort: false);
            Console.Error.WriteLine($"echo-server: proactor ({loop.BackendName}{(_multishot ? ", multishot recv" : "")}) listening on {endpoint}");
            loop.Run();
        }
        finally
        {
            Shutdown(loop);
        }
    }

    /// <inheritdoc />
    public void Setup(Loop loop, IPEndPoint endpoint, EchoOptions options, bool reusePort)
    {
        _multishot = options.MultishotReceive;
        _loop = (ProactorLoop)loop;
        _listener = Posix.CreateTcpListener(endpoint, backlog: 1024, reusePort: reusePort);
        if (_multishot) _pool = _loop.CreateBufferPool(PoolBuffers, PoolBufferSize);
        _accept = _loop.AcceptMultishot(_listener, _onAccepted, _onAcceptEnd);
    }

    /// <inheritdoc />
    public void Teardown(Loop loop) => Shutdown((ProactorLoop)loop);

    /// <inheritdoc />
    public bool Drain(Action drained)
    {
        if (_drained is not null) return false;
        _drained = drained;
        _acceptBackoff?.Cancel();
        _accept?.Cancel();                          // OnAcceptEnd sees _drained and does not re-arm
        if (_listener >= 0) Posix.Close(_listener); // the accept's own file reference goes with its cancellation
        _listener = -1;
        for (int fd = 0; fd < _connections.Length; fd++)
        {
            // A pending recv completes with what the kernel holds, then with 0 (end-of-stream): the connection closes
            // after echoing everything it received.
            if (_connections[fd] is { } c) GracefulStop.ShutdownReceive(c.Fd);
        }
        if (_open == 0) drained();
        return true;
    }

    /// <summary>Cancels everything in flight, lets it settle (bounded), closes every fd, then disposes the loop.</summary>
    private void Shutdown(ProactorLoop loop)
    {
        _stopping = true;
        try
        {
            _accept?.Cancel();
            for (int fd = 0; fd < _connections.Length; fd++)
            {
                if (_connections[fd] is not { } c) continue;
                c.Closing = true;
                c.Receive?.Cancel();
                c.Send?.Cancel();
            }
            long deadline = Environment.TickCount64 + 2000;
            while (loop.LiveOperationCount > 0 && Environment.TickCount64 < deadline) loop.RunOnce(TimeSpan.FromMilliseconds(50));
            for (int fd = 0; fd < _connections.Length; fd++)
                if (_connections[fd] is { } c) CloseNow(c);
            if (loop.LiveOperationCount == 0) _pool?.Dispose();   // else the loop's disposal settles them first
        }
        finally
        {
            if (_listener >= 0) Posix.Close(_listener);
            loop.Dispose();
        }
    }

    private void OnAccepted(Operation op, int fd)
    {
        if (_stopping || _drained is not null) { Posix.Close(fd); return; }
        Posix.SetTcpNoDelay(fd);
        var c = new Connection { Server = this, Fd = fd };
        if (fd >= _connections.Length) Array.Resize(ref _connections, Math.Max(fd + 1, _connections.Length * 2));
        _connections[fd] = c;
        _open++;
        _stats.Accepted++;
        if (_multishot)
        {
            c.Buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
            c.Memory = MemoryMarshal.CreateFromPinnedArray(c.Buffer, 0, c.Buffer.Length);
            c.Next = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
            c.NextMemory = MemoryMarshal.CreateFromPinnedArray(c.Next, 0, c.Next.Length);
            c.Receive = _loop.ReceiveMultishot(fd, _pool!, s_onChunk, s_onReceiveEnd);
        }
        else
        {
            c.Buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
            c.Memory = MemoryMarshal.CreateFromPinnedArray(c.Buffer, 0, c.Buffer.Length);
            c.Receive = _loop.Receive(fd, c.Memory, s_onReceived);
        }
        c.Receive.Data = c;      // callbacks never run inline from a submit, so setting Data afterwards is safe
    }

    private void OnAcceptEnd(Operation op)
    {
        if (_stopping || _drained is not null) return;
        if (op.State == OperationState.Failed)
        {
            // The kernel ended the multishot accept with an error. EMFILE/ENFILE/ENOBUFS/ENOMEM leave the connection
            // queued: re-arming at once would fail again at once, a spin. Re-arm after a pause instead.
            Console.Error.WriteLine($"echo-server: multishot accept ended: {op.Error}; accepting again in {AcceptBackoff.TotalMilliseconds} ms");
            _acceptBackoff = _loop.After(AcceptBackoff, this, static (_, s) =>
            {
                s._acceptBackoff = null;
                if (!s._stopping && s._drained is null) s._accept = s._loop.AcceptMultishot(s._listener, s._onAccepted, s._onAcceptEnd);
            });
            return;
        }
        _accept = _loop.AcceptMultishot(_listener, _onAccepted, _onAcceptEnd);
    }

    // ---------------------------------------------------------------- recv -> send -> recv (one op in flight)

    private static void OnReceived(Connection c, Operation op)
    {
        if (op.State != OperationState.Completed || op.Result == 0 || c.Closing) { c.Server.CloseNow(c); return; }
        c.Server._stats.Receives++;
        c.Offset = 0;
        c.Length = op.Result;
        StartSend(c);
    }

    private static void StartSend(Connection c)
    {
        // ReadOnlyMemory explicitly: with a Memory<byte> argument overload resolution picks the receive-buffer
        // Resubmit, which rejects a Send at run time.
        ReadOnlyMemory<byte> data = c.Memory.Slice(c.Offset, c.Length - c.Offset);
        if (c.Send is null)
        {
            c.Send = c.Server._loop.Send(c.Fd, data, s_onSent);
            c.Send.Data = c;
        }
        else c.Server._loop.Resubmit(c.Send, data);
    }

    private static void OnSent(Connection c, Operation op)
    {
        if (op.State != OperationState.Completed || c.Closing) { c.Server.CloseOrDefer(c); return; }
        c.Offset += op.Result;
        c.Server._stats.Bytes += op.Result;
        if (c.Offset < c.Length)
        {
            c.Server._stats.ShortSends++;
            StartSend(c);                                   // short send: the tail again
            return;
        }
        c.Offset = c.Length = 0;
        if (c.Server._multishot)
        {
            // The multishot recv is still armed; send what arrived meanwhile (swap the two buffers).
            if (c.NextLength > 0)
            {
                (c.Buffer, c.Next) = (c.Next!, c.Buffer);
                (c.Memory, c.NextMemory) = (c.NextMemory, c.Memory);
                c.Length = c.NextLength;
                c.NextLength = 0;
                StartSend(c);
            }
            else if (c.ReceiveEnded) c.Server.CloseNow(c);
            return;
        }
        c.Server._loop.Resubmit(c.Receive!);                // same fd, same buffer
    }

    // ---------------------------------------------------------------- multishot recv variant

    /// <summary>
    /// A chunk arrived (the span is only valid during this call). With no send in flight it is copied to the output
    /// buffer and sent; otherwise it is appended to the second buffer, which is sent when the current send completes.
    /// Only the buffer that is not in flight is ever written or grown.
    /// </summary>
    private static void OnChunk(Connection c, ReadOnlySpan<byte> data)
    {
        if (c.Closing) return;
        c.Server._stats.Receives++;
        if (c.Send is { IsSettled: false } || c.Length > 0)
        {
            if (c.NextLength + data.Length > c.Next!.Length)
            {
                // Grows only while the peer has more than 64 KiB unanswered: not in the benchmark shapes.
                var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(c.Next.Length * 2, c.NextLength + data.Length), pinned: true);
                c.Next.AsSpan(0, c.NextLength).CopyTo(bigger);
                c.Next = bigger;
                c.NextMemory = MemoryMarshal.CreateFromPinnedArray(bigger, 0, bigger.Length);
            }
            data.CopyTo(c.Next.AsSpan(c.NextLength));
            c.NextLength += data.Length;
            return;
        }
        if (data.Length > c.Buffer.Length)
        {
            c.Buffer = GC.AllocateUninitializedArray<byte>(data.Length, pinned: true);
            c.Memory = MemoryMarshal.CreateFromPinnedArray(c.Buffer, 0, c.Buffer.Length);
        }
        data.CopyTo(c.Buffer);
        c.Offset = 0;
        c.Length = data.Length;
        StartSend(c);
    }

    private static void OnReceiveEnd(Connection c, Operation op)
    {
        // EOF (Completed, 0): the peer sent everything; echo what is still queued, then close. An error or
        // cancellation: the stream is over.
        if (op.State == OperationState.Completed && !c.Closing && (c.Send is { IsSettled: false } || c.Length > 0 || c.NextLength > 0))
        {
            c.ReceiveEnded = true;
            return;
        }
        c.Server.CloseOrDefer(c);
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Closes now unless an operation of the connection is still in flight; then cancels it and closes when it settles.</summary>
    private void CloseOrDefer(Connection c)
    {
        c.Closing = true;
        if (c.Send is { IsSettled: false } s) { s.Cancel(); return; }
        if (c.Receive is { IsSettled: false } r) { r.Cancel(); return; }
        CloseNow(c);
    }

    private void CloseNow(Connection c)
    {
        if (!ReferenceEquals(_connections[c.Fd], c)) return;
        if (c.Send is { IsSettled: false } || c.Receive is { IsSettled: false }) { CloseOrDefer(c); return; }
        _connections[c.Fd] = null;
        _open--;
        Posix.Close(c.Fd);
        if (_open == 0 && _drained is { } drained) drained();
    }
}
