using System.Net;
using LinuxEvent;

namespace LinuxEvent.Examples.EchoServer;

/// <summary>
/// Reactor echo server, the same algorithm as peers/echo_epoll.c: level-triggered epoll, one recv per readiness
/// report into a reusable 64 KiB per-connection buffer, send it straight back; on a short send keep the rest, stop
/// reading (backpressure) and wait for writability until it is drained.
/// </summary>
/// <remarks>Steady state allocates nothing: callbacks are cached delegates, the connection travels in
/// <see cref="Watcher.Data"/>, and the buffer is reused.</remarks>
internal sealed class ReactorEchoServer : IEchoServer
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    private sealed class Connection(ReactorEchoServer server, int fd)
    {
        public readonly ReactorEchoServer Server = server;
        public readonly int Fd = fd;
        public readonly byte[] Buffer = GC.AllocateUninitializedArray<byte>(BufferSize);
        public int Offset, Length;           // pending output [Offset, Length) after a short send
        public Watcher Watcher = null!;
    }

    private static readonly Action<Watcher> s_onReadable = static w => OnReadable((Connection)w.Data!, w);
    private static readonly Action<Watcher> s_onWritable = static w => OnWritable((Connection)w.Data!, w);
    private static readonly Action<Watcher> s_onAcceptable = static w => ((ReactorEchoServer)w.Data!).AcceptAll();

    private readonly Counters _stats = Counters.Register();
    private ReactorLoop _loop = null!;
    private int _listener = -1;
    private Watcher? _listenWatcher;
    private Connection?[] _connections = new Connection?[256];     // by fd: cleanup at shutdown, no hashing
    private int _open;
    private Action? _drained;                                      // set while draining (graceful stop)
    private TimerHandle? _acceptBackoff;

    public void Run(IPEndPoint endpoint, EchoOptions options)
    {
        using var loop = Loop.CreateReactor();
        Stats.SubscribeSignals(loop, options, this);
        Setup(loop, endpoint, options, reusePort: false);
        Console.Error.WriteLine($"echo-server: reactor ({loop.BackendName}) listening on {endpoint}");
        try
        {
            loop.Run();
        }
        finally
        {
            Teardown(loop);
        }
    }

    /// <inheritdoc />
    public void Setup(Loop loop, IPEndPoint endpoint, EchoOptions options, bool reusePort)
    {
        _loop = (ReactorLoop)loop;
        _listener = Posix.CreateTcpListener(endpoint, backlog: 1024, reusePort: reusePort);
        _listenWatcher = _loop.Watch(_listener, WatchOptions.Read, s_onAcceptable, onWritable: null);
        _listenWatcher.Data = this;
    }

    /// <inheritdoc />
    public void Teardown(Loop loop)
    {
        for (int fd = 0; fd < _connections.Length; fd++)
            if (_connections[fd] is { } c) Close(c);
        CloseListener();
    }

    /// <inheritdoc />
    public bool Drain(Action drained)
    {
        if (_drained is not null) return false;
        _drained = drained;
        CloseListener();
        for (int fd = 0; fd < _connections.Length; fd++)
        {
            // The rest of the stream reads as end-of-stream once what the kernel already holds has been read; a
            // connection with echo pending reads again (and sees it) after its output is drained.
            if (_connections[fd] is { } c) GracefulStop.ShutdownReceive(c.Fd);
        }
        if (_open == 0) drained();
        return true;
    }

    private void CloseListener()
    {
        _acceptBackoff?.Cancel();
        _listenWatcher?.Cancel();
        _listenWatcher = null;
        if (_listener >= 0) Posix.Close(_listener);
        _listener = -1;
    }

    private void AcceptAll()
    {
        while (true)
        {
            int fd = Posix.TryAccept(_listener);
            if (fd < 0)
            {
                if (fd == -Posix.EAGAIN) return;
                if (fd == -103) continue;                    // ECONNABORTED: that one is gone, take the next
                // EMFILE/ENFILE/ENOBUFS/ENOMEM: the connection stays queued, so the level-triggered listener would be
                // reported again at once and the loop would spin. Stop watching it for a while instead.
                Console.Error.WriteLine($"echo-server: accept4 failed, errno {-fd}; accepting again in {AcceptBackoff.TotalMilliseconds} ms");
                _listenWatcher!.DisableRead();
                _acceptBackoff = _loop.After(AcceptBackoff, this, static (_, s) =>
                {
                    s._acceptBackoff = null;
                    if (s._listenWatcher is { IsActive: true } w) w.EnableRead();
                });
                return;
            }
            Posix.SetTcpNoDelay(fd);
            var c = new Connection(this, fd);
            var w = _loop.Watch(fd, WatchOptions.Read, s_onReadable, s_onWritable);
            w.Data = c;
            c.Watcher = w;
            if (fd >= _connections.Length) Array.Resize(ref _connections, Math.Max(fd + 1, _connections.Length * 2));
            _connections[fd] = c;
            _open++;
            _stats.Accepted++;
        }
    }

    private static void OnReadable(Connection c, Watcher w)
    {
        int n = Posix.TryReceive(c.Fd, c.Buffer);
        if (n <= 0)
        {
            if (n == 0 || n != -Posix.EAGAIN) c.Server.Close(c);   // EOF or error
            return;
        }
        c.Server._stats.Receives++;
        c.Offset = 0;
        c.Length = n;
        if (!Flush(c)) { c.Server.Close(c); return; }
        if (c.Offset < c.Length)
        {
            // Backpressure: keep the rest, stop reading until it is written. (Two epoll_ctl MODs: Watcher has no
            // single "set interest" call; this path is rare — the socket buffer was full.)
            c.Server._stats.ShortSends++;
            w.EnableWrite();
            w.DisableRead();
        }
    }

    private static void OnWritable(Connection c, Watcher w)
    {
        if (!Flush(c)) { c.Server.Close(c); return; }
        if (c.Offset == c.Length)
        {
            c.Offset = c.Length = 0;
            w.EnableRead();
            w.DisableWrite();
        }
    }

    /// <summary>Sends pending bytes until done or EAGAIN. False if the connection is dead.</summary>
    private static bool Flush(Connection c)
    {
        while (c.Offset < c.Length)
        {
            int w = Posix.TrySend(c.Fd, c.Buffer.AsSpan(c.Offset, c.Length - c.Offset));
            if (w < 0) return w == -Posix.EAGAIN;
            c.Offset += w;
            c.Server._stats.Bytes += w;
        }
        return true;
    }

    private void Close(Connection c)
    {
        if (!ReferenceEquals(_connections[c.Fd], c)) return;
        _connections[c.Fd] = null;
        _open--;
        c.Watcher.Cancel();
        Posix.Close(c.Fd);
        if (_open == 0 && _drained is { } drained) drained();
    }
}
