// SocketsEcho: a TCP echo server written the way a .NET developer writes one without our library, the ".NET
// Sockets" baseline of ci/bench.sh.
//
//   SocketsEcho --port PORT [--max-seconds N]
//
// One Socket listens on 127.0.0.1; an accept loop awaits Socket.AcceptAsync and starts one async method per
// connection, which loops "await ReceiveAsync(Memory<byte>) into a 64 KiB buffer; await SendAsync until every
// received byte is out" until the peer closes. Continuations run on the thread pool, as by default; nothing is
// tuned (workstation GC, tiered JIT) except NoDelay = true on accepted sockets, as every server here sets
// TCP_NODELAY. SIGTERM/SIGINT (or --max-seconds) stop it: the listener and every open connection are disposed,
// which ends their pending operations, the connection tasks are awaited (bounded) and one line goes to stderr.
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

int port = 0, maxSeconds = 0;
for (int i = 0; i < args.Length; i++)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    bool ok = args[i] switch
    {
        "--port" => int.TryParse(value, out port) && port is > 0 and <= 65535,
        "--max-seconds" => int.TryParse(value, out maxSeconds) && maxSeconds >= 0,
        _ => false,
    };
    if (!ok)
    {
        Console.Error.WriteLine("usage: SocketsEcho --port PORT [--max-seconds N]");
        return 2;
    }
    i++;
}
if (port == 0)
{
    Console.Error.WriteLine("usage: SocketsEcho --port PORT [--max-seconds N]");
    return 2;
}

using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(1024);

var open = new HashSet<Socket>();            // guarded by itself: connections still open
var tasks = new List<Task>();                // guarded by open: every connection's task
long echoedBytes = 0, accepted = 0;
int stopSignal = 0;

void Stop(int signal)
{
    if (Interlocked.CompareExchange(ref stopSignal, signal, 0) != 0) return;
    listener.Dispose();                      // ends the pending AcceptAsync
    lock (open) foreach (var s in open) s.Dispose();   // ends each pending ReceiveAsync/SendAsync
}

using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; Stop(15); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; Stop(2); });
using var lifetime = new Timer(_ => Stop(14), null, maxSeconds > 0 ? TimeSpan.FromSeconds(maxSeconds) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
Console.Error.WriteLine($"SocketsEcho: listening on 127.0.0.1:{port}");

async Task EchoAsync(Socket socket)
{
    var buffer = new byte[64 * 1024];
    long bytes = 0;
    try
    {
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) break;                                   // the peer closed its side
            for (int sent = 0; sent < n;)
                sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
            bytes += n;
        }
    }
    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
    {
        // reset by the peer, or disposed by Stop: either way this connection is over
    }
    finally
    {
        lock (open) open.Remove(socket);
        socket.Dispose();
        Interlocked.Add(ref echoedBytes, bytes);
    }
}

while (true)
{
    Socket client;
    try
    {
        client = await listener.AcceptAsync();
    }
    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
    {
        if (Volatile.Read(ref stopSignal) != 0) break;
        if (ex is SocketException { SocketErrorCode: SocketError.ConnectionAborted or SocketError.Interrupted }) continue;
        throw;
    }
    client.NoDelay = true;
    accepted++;
    lock (open)
    {
        if (Volatile.Read(ref stopSignal) != 0) { client.Dispose(); break; }
        open.Add(client);
        tasks.Add(EchoAsync(client));
    }
}

Task[] all;
lock (open) all = tasks.ToArray();
bool settled = Task.WaitAll(all, TimeSpan.FromSeconds(5));
Console.Error.WriteLine($"SocketsEcho: exit signal={stopSignal} accepted={accepted} bytes={Interlocked.Read(ref echoedBytes)}{(settled ? "" : " (some connections did not settle in 5 s)")}");
return 0;
