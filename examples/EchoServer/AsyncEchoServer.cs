using System.Net;
using System.Runtime.InteropServices;
using LinuxEvent;

namespace LinuxEvent.Examples.EchoServer;

/// <summary>
/// The echo server written as blocking-looking async code, identical on both models: one task accepts, one task per
/// connection receives and sends back. On the reactor each await is "try the syscall, wait for readiness on EAGAIN";
/// on the proactor it is "submit to io_uring". Every continuation runs on the loop thread, so no locks.
/// </summary>
/// <remarks>Steady state allocates nothing per message: the awaits use the loop's pooled value-task sources, the
/// buffer is pinned once per connection (so io_uring needs no pin handle) and reused.</remarks>
internal sealed class AsyncEchoServer : IEchoServer
{
    private const int BufferSize = 64 * 1024;

    private readonly Counters _stats = Counters.Register();
    private readonly HashSet<int> _open = new();
    private Loop _loop = null!;
    private int _listener = -1;

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
        _listener = Posix.CreateTcpListener(endpoint, backlog: 1024, reusePort: reusePort);
        _ = loop.Spawn(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            int fd;
            try
            {
                fd = await _loop.AcceptAsync(_listener);
            }
            catch (LinuxEventException ex) when (ex.ErrnoName is "ECONNABORTED" or "EINTR")
            {
                continue;                                   // the peer gave up before we took it: next one
            }
            catch (Exception)
            {
                return;                                     // the listener was closed or the loop disposed: stop
            }
            Posix.SetTcpNoDelay(fd);
            _stats.Accepted++;
            _open.Add(fd);
            _ = _loop.Spawn(() => ServeAsync(fd));             // runs alongside; failures are handled inside
        }
    }

    private async Task ServeAsync(int fd)
    {
        var memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true), 0, BufferSize);
        try
        {
            while (true)
            {
                int n = await _loop.ReceiveAsync(fd, memory);
                if (n == 0) break;                          // the peer closed its side
                _stats.Receives++;
                for (int sent = 0; sent < n;)
                {
                    int w = await _loop.SendAsync(fd, memory[sent..n]);
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
            if (_open.Remove(fd)) Posix.Close(fd);
        }
    }

    /// <inheritdoc />
    public void Teardown(Loop loop)
    {
        // Closing the fds here; operations still pending on them settle when the loop is disposed, and their tasks'
        // finally blocks see the fd already removed (no double close of a number the kernel may have reused).
        if (_listener >= 0) { Posix.Close(_listener); _listener = -1; }
        foreach (int fd in _open) Posix.Close(fd);
        _open.Clear();
    }
}
