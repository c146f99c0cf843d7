// splice-proxy: a tiny TCP proxy on the proactor that moves bytes with io_uring splice (socket -> pipe -> socket),
// so the payload never enters user space.
//
//   dotnet run examples/splice-proxy.cs                                      self-contained demo, exits by itself
//   dotnet run examples/splice-proxy.cs -- --port 9000 --upstream 6379     proxy 127.0.0.1:9000 -> 127.0.0.1:6379
//
// Per connection the proxy dials the upstream and runs two pumps, one per direction. A pump splices up to 64 KiB
// from its source socket into a private pipe, then from the pipe into the destination socket until the pipe is
// empty, and repeats. End-of-stream is propagated as a half-close (shutdown SHUT_WR), so request/response protocols
// that close one side first work. io_uring executes splice in its worker threads (splice has no poll-driven fast
// path), so the proxied sockets are switched to blocking mode for it; accept and connect stay ordinary async calls.
// The demo mode starts an echo upstream and a proxy on free ports, sends a message through the proxy and checks the
// echo. SIGINT/SIGTERM stop the proxy cleanly (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

int port = 0, upstreamPort = 0;
switch (args)
{
    case []:
        break;
    case ["--port", var p, "--upstream", var u] when int.TryParse(p, out port) && int.TryParse(u, out upstreamPort)
                                                 && port is > 0 and < 65536 && upstreamPort is > 0 and < 65536:
        break;
    default:
        Console.Error.WriteLine("usage: splice-proxy [--port P --upstream UPSTREAM_PORT]   (127.0.0.1; no arguments: demo)");
        return 2;
}

ProactorLoop loop;
try { loop = Loop.CreateProactor(); }
catch (LinuxEventUnsupportedException ex)
{
    Console.Error.WriteLine($"splice-proxy: io_uring is not available here: {ex.Message}");
    return 3;
}
using (loop)
{
    loop.UnhandledException = static (_, ex) => Console.Error.WriteLine($"splice-proxy: unexpected error: {ex}");
    var stopping = new CancellationTokenSource();
    loop.Signal(2, (_, _) => stopping.Cancel());
    loop.Signal(15, (_, _) => stopping.Cancel());
    int status = 0;
    loop.Run(async () =>
    {
        if (upstreamPort != 0)
        {
            var proxy = new SpliceProxy(loop, new IPEndPoint(IPAddress.Loopback, port), new IPEndPoint(IPAddress.Loopback, upstreamPort));
            Console.Error.WriteLine($"splice-proxy: 127.0.0.1:{port} -> 127.0.0.1:{upstreamPort}");
            await proxy.RunAsync(stopping.Token);
            return;
        }
        status = await DemoAsync(loop, stopping) ? 0 : 1;
    });
    return status;
}

// Demo: echo upstream + proxy on free ports; a client sends through the proxy and expects its bytes back.
static async Task<bool> DemoAsync(ProactorLoop loop, CancellationTokenSource stopping)
{
    int echoListener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
    var echoEndpoint = (IPEndPoint)Posix.GetLocalEndPoint(echoListener)!;
    var echo = loop.Spawn(async () =>
    {
        int fd = await loop.AcceptAsync(echoListener, stopping.Token);
        var buffer = new byte[4096];
        int n;
        while ((n = await loop.ReceiveAsync(fd, buffer)) > 0) await loop.SendAllAsync(fd, buffer.AsMemory(0, n));
        Posix.Close(fd);                                   // end of the echo: the proxy relays it as a half-close
    });

    var proxy = new SpliceProxy(loop, new IPEndPoint(IPAddress.Loopback, 0), echoEndpoint);
    var proxyRun = proxy.RunAsync(stopping.Token);
    Console.WriteLine($"echo upstream on {echoEndpoint}, splice proxy on {proxy.Endpoint}");

    string message = string.Concat(Enumerable.Repeat("hello through the splice proxy; ", 4000));   // ~128 KiB
    int client = Posix.CreateStreamSocket(AddressFamily.InterNetwork);
    string received;
    try
    {
        await loop.ConnectAsync(client, proxy.Endpoint);
        var sending = SendThenHalfCloseAsync(loop, client, Encoding.ASCII.GetBytes(message));
        var reply = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await loop.ReceiveAsync(client, buffer)) > 0) reply.Write(buffer, 0, n);
        await sending;
        received = Encoding.ASCII.GetString(reply.ToArray());
    }
    finally
    {
        Posix.Close(client);
    }
    Console.WriteLine($"client: sent {message.Length} bytes, received {received.Length} bytes back, identical: {received == message}");
    await echo;
    Posix.Close(echoListener);
    stopping.Cancel();                                     // stop the proxy's accept loop
    await proxyRun;
    Console.WriteLine($"proxy: {proxy.Sessions} session(s), {proxy.BytesSpliced} bytes spliced");
    return received == message;
}

// Sends everything, then shuts the sending side down (SHUT_WR): the echo closes after echoing the last byte.
static async Task SendThenHalfCloseAsync(Loop loop, int socket, byte[] data)
{
    await loop.SendAllAsync(socket, data);
    Posix.Shutdown(socket, 1);
}

/// <summary>Accepts connections and splices each one to the upstream until either side finishes.</summary>
internal sealed class SpliceProxy
{
    private const int ChunkSize = 64 * 1024;
    private readonly ProactorLoop _loop;
    private readonly IPEndPoint _upstream;
    private readonly int _listener;
    private readonly HashSet<int> _sockets = new();

    public SpliceProxy(ProactorLoop loop, IPEndPoint endpoint, IPEndPoint upstream)
    {
        _loop = loop;
        _upstream = upstream;
        _listener = Posix.CreateTcpListener(endpoint);
        Endpoint = (IPEndPoint)Posix.GetLocalEndPoint(_listener)!;
    }

    public IPEndPoint Endpoint { get; }
    public int Sessions { get; private set; }
    public long BytesSpliced { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        var sessions = new List<Task>();
        try
        {
            while (true)
            {
                int client;
                try { client = await _loop.AcceptAsync(_listener, stopping); }
                catch (OperationCanceledException) { break; }
                Sessions++;
                sessions.Add(_loop.Spawn(() => SessionAsync(client)));
            }
        }
        finally
        {
            Posix.Close(_listener);
        }
        // Shutting the sockets down ends the splices blocked on them; each session then closes its fds.
        foreach (int fd in _sockets) ShutdownQuietly(fd, 2);
        await Task.WhenAll(sessions);
    }

    private async Task SessionAsync(int client)
    {
        _sockets.Add(client);
        int upstream = -1;
        try
        {
            upstream = Posix.CreateStreamSocket(_upstream.AddressFamily);
            _sockets.Add(upstream);
            await _loop.ConnectAsync(upstream, _upstream);
            Posix.SetNonBlocking(client, false);           // splice runs in io-wq and must block, not return EAGAIN
            Posix.SetNonBlocking(upstream, false);
            var up = PumpAsync(client, upstream);
            var down = PumpAsync(upstream, client);
            await Task.WhenAll(up, down);
        }
        catch (Exception ex) when (ex is ILinuxEventError)
        {
            Console.Error.WriteLine($"splice-proxy: session ended: {ex.Message}");
        }
        finally
        {
            _sockets.Remove(client);
            Posix.Close(client);
            if (upstream >= 0)
            {
                _sockets.Remove(upstream);
                Posix.Close(upstream);
            }
        }
    }

    /// <summary>Moves bytes from <paramref name="from"/> to <paramref name="to"/> through a pipe until end-of-stream.</summary>
    private async Task PumpAsync(int from, int to)
    {
        var (pipeRead, pipeWrite) = Posix.Pipe(nonBlocking: false);
        try
        {
            while (true)
            {
                int n = await SpliceAsync(from, pipeWrite, ChunkSize);     // socket -> pipe
                if (n == 0) break;                                          // end of stream
                while (n > 0)
                {
                    int moved = await SpliceAsync(pipeRead, to, n);        // pipe -> socket
                    n -= moved;
                    BytesSpliced += moved;
                }
            }
            ShutdownQuietly(to, 1);                                         // pass the end of stream on (SHUT_WR)
        }
        catch (Exception e) when (e is ILinuxEventError)
        {
            // A reset on one side: cut both directions so the other pump ends too.
            ShutdownQuietly(from, 2);
            ShutdownQuietly(to, 2);
            throw;
        }
        finally
        {
            Posix.Close(pipeRead);
            Posix.Close(pipeWrite);
        }
    }

    /// <summary>Submits an io_uring splice and completes with the bytes moved (0 = end of stream).</summary>
    private Task<int> SpliceAsync(int fdIn, int fdOut, int length)
    {
        var done = new TaskCompletionSource<int>();
        _loop.Splice(fdIn, fdOut, length, op =>
        {
            if (op.State == OperationState.Completed) done.SetResult(op.Result);
            else if (op.State == OperationState.Cancelled) done.SetCanceled();
            else done.SetException(op.Error!.ToException($"splice({fdIn} -> {fdOut})"));
        });
        return done.Task;
    }

    private static void ShutdownQuietly(int fd, int how)
    {
        try { Posix.Shutdown(fd, how); }
        catch (Exception e) when (e is ILinuxEventError) { /* not connected any more */ }
    }
}
