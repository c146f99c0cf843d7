using System.Net;
using System.Runtime.InteropServices;
using LinuxEvent;

namespace LinuxEvent.Examples.EchoServer;

/// <summary>
/// The echo server written as blocking-looking async code, identical on both models: one task accepts, one task per
/// connection receives and sends back. Each socket is registered once (<see cref="Loop.Register"/>): on the reactor an
/// await is "try the syscall unless the direction is known not to be ready, else wait for the next edge" with no
/// epoll_ctl per wait; on the proactor it is "submit to io_uring". Every continuation runs on the loop thread, so no locks.
/// </summary>
/// <remarks>Steady state allocates nothing per message: the awaits use the loop's pooled value-task sources, the
/// buffer is pinned once per connection (so io_uring needs no pin handle) and reused.</remarks>
internal sealed class AsyncEchoServer : IEchoServer
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    private readonly Counters _stats = Counters.Register();
    private readonly HashSet<LoopFd> _open = new();
    private Loop _loop = null!;
    private LoopFd? _listener;
    private Action? _drained;                       // set while draining (graceful stop)
    private readonly CancellationTokenSource _stopAccepting = new();

    public void Run(IPEndPoint endpoint, EchoOptions options)
    {
        using var loop = Loop.Create(options.Model);
        Stats.SubscribeSignals(loop, options, this);
        Setup(loop, endpoint, options, reusePort: false);
        Console.Error.WriteLine($"echo-server: {options.Model.ToString().ToLowerInvariant()} async ({loop.BackendName}) listening on {endpoint}");
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
        _loop = loop;
        _listener = loop.Register(Posix.CreateTcpListener(endpoint, backlog: 1024, reusePort: reusePort), ownsFd: true);
        _ = loop.Spawn(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            int fd;
            try
            {
                fd = await _listener!.AcceptAsync(_stopAccepting.Token);
            }
            catch (LinuxEventSocketException ex) when (ex.ErrnoName is "ECONNABORTED" or "EINTR")
            {
                continue;                                   // the peer gave up before we took it: next one
            }
            catch (LinuxEventSocketException ex) when (ex.ErrnoName is "EMFILE" or "ENFILE" or "ENOBUFS" or "ENOMEM")
            {
                // Out of fds or memory: the connection stays queued, so retrying at once would fail at once. Pause,
                // then accept again (a closed connection may have freed an fd meanwhile).
                Console.Error.WriteLine($"echo-server: {ex.Message}; accepting again in {AcceptBackoff.TotalMilliseconds} ms");
                try { await _loop.DelayAsync(AcceptBackoff, _stopAccepting.Token); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            catch (Exception)
            {
                return;                                     // the listener was closed or the loop disposed: stop
            }
            if (_drained is not null) { Posix.Close(fd); return; }    // accepted just before the drain began
            Posix.SetTcpNoDelay(fd);
            _stats.Accepted++;
            var io = _loop.Register(fd, ownsFd: true);
            _open.Add(io);
            _ = _loop.Spawn(() => ServeAsync(io));             // runs alongside; failures are handled inside
        }
    }

    private async Task ServeAsync(LoopFd io)
    {
        var memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true), 0, BufferSize);
        try
        {
            while (true)
            {
                int n = await io.ReceiveAsync(memory);
                if (n == 0) break;                          // the peer closed its side
                _stats.Receives++;
                for (int sent = 0; sent < n;)
                {
                    int w = await io.SendAsync(memory[sent..n]);
                    if (w < n - sent) _stats.ShortSends++;
                    sent += w;
                }
                _stats.Bytes += n;
            }
        }
        catch (Exception)
        {
            // ECONNRESET/EPIPE from the peer, or the loop disposed at shutdown: the connection is over either way.
        }
        finally
        {
            if (_open.Remove(io))
            {
                io.Dispose();                           // ends the registration and closes the socket
                if (_open.Count == 0 && _drained is { } drained) drained();
            }
        }
    }

    /// <inheritdoc />
    public bool Drain(Action drained)
    {
        if (_drained is not null) return false;
        _drained = drained;
        _stopAccepting.Cancel();                        // the accept task ends (its await completes cancelled)
        _listener?.Dispose();
        _listener = null;
        // Each task reads what the kernel already holds, echoes it, then receives 0 and closes its connection.
        foreach (var io in _open) GracefulStop.ShutdownReceive(io.Fd);
        if (_open.Count == 0) drained();
        return true;
    }

    /// <inheritdoc />
    public void Teardown(Loop loop)
    {
        // Disposing the registrations settles their pending operations (ObjectDisposedException; the proactor cancels
        // them in the kernel first) and closes the sockets; the tasks' finally blocks find them already removed.
        _listener?.Dispose();
        _listener = null;
        var open = _open.ToArray();
        _open.Clear();
        foreach (var io in open) io.Dispose();
    }
}
