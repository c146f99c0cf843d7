using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.IdleBench;

/// <summary>
/// The client process: opens N connections to 127.0.0.1:PORT (64 at a time), lets each do its protocol's exchange,
/// prints <c>ready OK FAILED [first error]</c>, holds them idle until a line (or EOF) arrives on stdin, then resets
/// them all (SO_LINGER 0) and prints <c>closed</c>.
/// </summary>
internal static class IdleClient
{
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        int port = 0, count = 0;
        var protocol = Protocol.None;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--connections": count = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--exchange": protocol = Enum.Parse<Protocol>(args[i + 1], ignoreCase: true); break;
                default: throw new UsageException($"client: unknown argument '{args[i]}'");
            }
        }
        if (port is <= 0 or > 65535 || count <= 0) throw new UsageException("client: --port and --connections are required");

        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        var sockets = new Socket?[count];
        int failed = 0;
        string? firstError = null;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true,
                LingerState = new LingerOption(true, 0),      // close = RST: no TIME_WAIT left on the ephemeral port
            };
            try
            {
                using var timeout = new CancellationTokenSource(ExchangeTimeout);
                await s.ConnectAsync(endpoint, timeout.Token);
                await Exchange.RunAsync(s, protocol, timeout.Token);
                sockets[i] = s;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
            {
                s.Dispose();
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, $"{ex.GetType().Name}: {ex.Message}", null);
            }
        });
        Console.Out.WriteLine($"ready {count - failed} {failed} {firstError}");
        Console.Out.Flush();
        Console.In.ReadLine();
        foreach (var s in sockets) s?.Dispose();
        Console.Out.WriteLine("closed");
        return failed == 0 ? 0 : 1;
    }
}
