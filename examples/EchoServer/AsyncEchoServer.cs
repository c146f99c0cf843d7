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

    private readonly Counters _stats = Counters.Register();
    private readonly HashSet<LoopFd> _open = new();
    private Loop _loop = null!;
    private LoopFd? _listener;

    public void Run(IPEndPoint endpoint, EchoOptions options)
    {
        using var loop = Loop.Create(options.Model);
        Stats.SubscribeSignals(loop, options);
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
                fd = await _listener!.AcceptAsync();
            }
            catch (LinuxEventSocketException ex) when (ex.ErrnoName is "ECONNABORTED" or "EINTR")
            {
                continue;                                   // the peer gave up before we took it: next one
            }
            catch (Exception)
            {
                return;                                     // the listener was closed or the loop disposed: stop
            }
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
            if (_open.Remove(io)) io.Dispose();         // ends the registration and closes the socket
        }
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
