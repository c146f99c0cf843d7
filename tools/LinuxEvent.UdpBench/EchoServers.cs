using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LinuxEvent.UdpBench;

/// <summary>
/// The three UDP echo servers, each written the way its API is meant to be used: one receive-then-reply loop.
/// <list type="bullet">
/// <item>reactor / proactor: LinuxEvent's <see cref="LoopFd.ReceiveFromAsync"/> / <see cref="LoopFd.SendToAsync"/>
/// on a registered socket, one async loop on the loop thread (the same code on both models).</item>
/// <item>dotnet: <see cref="Socket.ReceiveFromAsync(Memory{byte}, SocketFlags, EndPoint, CancellationToken)"/> /
/// <see cref="Socket.SendToAsync(ReadOnlyMemory{byte}, SocketFlags, EndPoint, CancellationToken)"/> with default
/// runtime settings (<c>--concurrency N</c> runs N such loops on the socket).</item>
/// </list>
/// All bind 127.0.0.1 with 4 MiB socket buffers, print one "listening" line, and stop on SIGTERM/SIGINT.
/// </summary>
internal static class EchoServers
{
    private const int SocketBuffer = 4 << 20;

    public static int Run(Options o)
    {
        string impl = o.Text("impl", "");
        int port = o.Int("port", 0, 1);
        int concurrency = o.Int("concurrency", 1, 1);
        o.CheckAllUsed();
        return impl switch
        {
            "reactor" => RunLinuxEvent(LoopModel.Reactor, port),
            "proactor" => RunLinuxEvent(LoopModel.Proactor, port),
            "dotnet" => RunDotNet(port, concurrency),
            _ => throw new ArgumentException($"--impl must be reactor, proactor or dotnet, got '{impl}'"),
        };
    }

    private static int RunLinuxEvent(LoopModel model, int port)
    {
        Loop loop;
        try { loop = Loop.Create(model); }
        catch (LinuxEventUnsupportedException ex)
        {
            Console.Error.WriteLine($"udpbench server: {ex.Message}");
            return 3;
        }
        using (loop)
        {
            int fd = Posix.CreateBoundDatagramSocket(new IPEndPoint(IPAddress.Loopback, port));
            Posix.SetSocketOption(fd, 1, 8 /* SO_RCVBUF */, SocketBuffer);
            Posix.SetSocketOption(fd, 1, 7 /* SO_SNDBUF */, SocketBuffer);
            using var stop = new CancellationTokenSource();
            loop.Signal(15, (_, _) => stop.Cancel());
            loop.Signal(2, (_, _) => stop.Cancel());
            long echoed = 0;
            loop.Run(async () =>
            {
                using var socket = loop.Register(fd, ownsFd: true);
                // Pinned, and wrapped without a GC handle, as Operation's docs advise for hot paths.
                var buffer = System.Runtime.InteropServices.MemoryMarshal.CreateFromPinnedArray(GC.AllocateArray<byte>(65536, pinned: true), 0, 65536);
                Console.WriteLine($"udpbench server: listening on 127.0.0.1:{port} ({model.ToString().ToLowerInvariant()})");
                try
                {
                    while (true)
                    {
                        var r = await socket.ReceiveFromAsync(buffer, stop.Token);
                        await socket.SendToAsync(buffer[..r.ReceivedBytes], r.RemoteEndPoint, stop.Token);
                        echoed++;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            });
            Console.WriteLine($"udpbench server: stopped after {echoed} datagrams, {GC.CollectionCount(0)} gen0 GCs");
        }
        return 0;
    }

    private static int RunDotNet(int port, int concurrency)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = SocketBuffer,
            SendBufferSize = SocketBuffer,
        };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        long echoed = 0;
        async Task EchoLoop()
        {
            var buffer = new byte[65536];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop.Token);
                    await socket.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, stop.Token);
                    Interlocked.Increment(ref echoed);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        }
        Console.WriteLine($"udpbench server: listening on 127.0.0.1:{port} (dotnet, {concurrency} receive loop{(concurrency == 1 ? "" : "s")})");
        Task.WaitAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(EchoLoop)).ToArray());
        Console.WriteLine($"udpbench server: stopped after {echoed} datagrams, {GC.CollectionCount(0)} gen0 GCs");
        return 0;
    }
}
