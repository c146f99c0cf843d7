using System.Diagnostics;

namespace LinuxEvent.Net.Tests;

/// <summary>Helpers for network tests: real sockets on 127.0.0.1 only.</summary>
public static class Net
{
    public static readonly System.Net.IPEndPoint AnyLoopbackPort = new(System.Net.IPAddress.Loopback, 0);

    /// <summary>A connected TCP pair over loopback: (server side accepted, client side), both non-blocking.</summary>
    public static (int Server, int Client) TcpPair()
    {
        int listener = Posix.CreateTcpListener(AnyLoopbackPort, backlog: 4);
        try
        {
            var ep = (System.Net.IPEndPoint)Posix.GetLocalEndPoint(listener)!;
            int client = Posix.StartTcpConnect(ep, out int errno);
            Assert.That(client, Is.GreaterThanOrEqualTo(0), $"connect errno {errno}");
            int server = -1;
            var sw = Stopwatch.StartNew();
            while (server < 0 && sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                server = Posix.TryAccept(listener);
                if (server < 0) Thread.Yield();
            }
            Assert.That(server, Is.GreaterThanOrEqualTo(0), "accept on loopback");
            return (server, client);
        }
        finally { Posix.Close(listener); }
    }

    /// <summary>Reads whatever is available from a non-blocking fd (empty if nothing, null at EOF).</summary>
    public static byte[]? Drain(int fd, int max = 1 << 20)
    {
        var buf = new byte[Math.Min(max, 256 * 1024)];
        var ms = new MemoryStream();
        while (ms.Length < max)
        {
            int n = Posix.TryRead(fd, buf);
            if (n > 0) { ms.Write(buf, 0, n); continue; }
            if (n == 0) return ms.Length == 0 ? null : ms.ToArray();
            break;
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Asserts that a loop holds nothing for components that are done: no operation in flight on a proactor (run until
    /// the cancelled ones settle), no watcher left on a reactor.
    /// </summary>
    public static void Settle(Loop loop)
    {
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
        if (loop is ReactorLoop r) Assert.That(r.WatcherCount, Is.Zero, "watchers left");
    }

    /// <summary>Runs <paramref name="loop"/> until <paramref name="fd"/> (non-blocking) reaches EOF; returns what arrived.</summary>
    public static byte[] RunUntilEof(Loop loop, int fd, TimeSpan? timeout = null)
    {
        var received = new MemoryStream();
        loop.RunUntil(() =>
        {
            var chunk = Drain(fd);
            if (chunk is null) return true;
            received.Write(chunk);
            return false;
        }, timeout);
        return received.ToArray();
    }

    public static void SetSendBuffer(int fd, int bytes) => Posix.SetSocketOption(fd, 1 /*SOL_SOCKET*/, 7 /*SO_SNDBUF*/, bytes);
    public static void SetReceiveBuffer(int fd, int bytes) => Posix.SetSocketOption(fd, 1 /*SOL_SOCKET*/, 8 /*SO_RCVBUF*/, bytes);
}
