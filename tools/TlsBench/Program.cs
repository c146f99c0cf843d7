// TlsBench: TLS echo servers and a load generator for ci/bench-tls.sh (issue 13).
//
//   TlsBench server --impl reactor|proactor|sockets --port P
//   TlsBench load --port P [--conns 50] [--size 64] [--seconds 5]
//
// Every TLS session is TLS 1.3 with TLS_AES_128_GCM_SHA256 only (both ends pin it), over a self-signed P-256
// certificate made at start. Servers echo until EOF. reactor/proactor: a LinuxEvent loop, Listener, one task per
// connection on the loop thread with SslStream over LoopStream.AsStream(). sockets: .NET Socket + NetworkStream +
// SslStream, one task per connection on the thread pool (the usual .NET server). The load generator keeps one message
// of --size bytes in flight per connection (write, read the echo back) for --seconds and prints
//   tlsbench: conns=C size=S seconds=T msgs=N msgs/s=R
// Servers stop on SIGTERM/SIGINT.
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LinuxEvent;
using LinuxEvent.Net;

var opts = new Dictionary<string, string>();
for (int i = 1; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string name, string fallback) => opts.TryGetValue(name, out var v) ? v : fallback;
int port = int.Parse(Opt("port", "7444"), System.Globalization.CultureInfo.InvariantCulture);
switch (args.Length > 0 ? args[0] : "")
{
    case "server":
        return Servers.Run(Opt("impl", ""), port);
    case "load":
        return await Load.RunAsync(port, int.Parse(Opt("conns", "50"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Opt("size", "64"), System.Globalization.CultureInfo.InvariantCulture),
            double.Parse(Opt("seconds", "5"), System.Globalization.CultureInfo.InvariantCulture));
    default:
        Console.Error.WriteLine("usage: TlsBench server --impl reactor|proactor|sockets --port P | TlsBench load --port P [--conns 50] [--size 64] [--seconds 5]");
        return 2;
}

internal static class Tls
{
    public static readonly CipherSuitesPolicy Cipher = new([TlsCipherSuite.TLS_AES_128_GCM_SHA256]);

    public static SslServerAuthenticationOptions Server(X509Certificate2 certificate) => new()
    {
        ServerCertificate = certificate,
        EnabledSslProtocols = SslProtocols.Tls13,
        CipherSuitesPolicy = Cipher,
    };

    public static SslClientAuthenticationOptions Client => new()
    {
        TargetHost = "localhost",
        EnabledSslProtocols = SslProtocols.Tls13,
        CipherSuitesPolicy = Cipher,
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,   // a benchmark of our own self-signed server
    };

    public static X509Certificate2 Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }
}

internal static class Servers
{
    public static int Run(string impl, int port)
    {
        using var certificate = Tls.Certificate();
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        switch (impl)
        {
            case "reactor" or "proactor":
                using (var loop = Loop.Create(impl == "reactor" ? LoopModel.Reactor : LoopModel.Proactor))
                {
                    loop.UnhandledException = (_, ex) => Console.Error.WriteLine($"TlsBench: {ex}");
                    loop.Run(() => LoopServer(loop, endpoint, Tls.Server(certificate)));
                }
                return 0;
            case "sockets":
                SocketsServer(endpoint, Tls.Server(certificate)).GetAwaiter().GetResult();
                return 0;
            default:
                Console.Error.WriteLine($"TlsBench: unknown server impl '{impl}' (reactor|proactor|sockets)");
                return 2;
        }
    }

    private static async Task LoopServer(Loop loop, IPEndPoint endpoint, SslServerAuthenticationOptions tls)
    {
        using var listener = Listener.Bind(loop, endpoint, onAccept: null);
        var stop = new TaskCompletionSource();
        using var term = loop.Signal(15, (_, _) => stop.TrySetResult());
        using var interrupt = loop.Signal(2, (_, _) => stop.TrySetResult());
        var open = new HashSet<LoopStream>();
        Console.WriteLine($"TlsBench: {loop.BackendName} server on {listener.LocalEndPoint}");
        while (true)
        {
            var accept = listener.AcceptAsync().AsTask();
            if (await Task.WhenAny(accept, stop.Task) == stop.Task) break;
            var stream = (await accept).ToStream(loop);
            open.Add(stream);
            _ = loop.Spawn(async () =>
            {
                try
                {
                    await using var ssl = new SslStream(stream.AsStream());
                    await ssl.AuthenticateAsServerAsync(tls);
                    await Echo(ssl);
                }
                catch (Exception ex) when (ex is IOException or AuthenticationException or ObjectDisposedException) { }
                finally { open.Remove(stream); }
            });
        }
        foreach (var s in open.ToArray()) s.Close();
    }

    private static async Task SocketsServer(IPEndPoint endpoint, SslServerAuthenticationOptions tls)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endpoint);
        listener.Listen(1024);
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        Console.WriteLine($"TlsBench: sockets server on {listener.LocalEndPoint}");
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(stop.Token);
                socket.NoDelay = true;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
                        await ssl.AuthenticateAsServerAsync(tls);
                        await Echo(ssl);
                    }
                    catch (Exception ex) when (ex is IOException or AuthenticationException or ObjectDisposedException or SocketException) { }
                });
            }
        }
        catch (OperationCanceledException) { }
    }

    private static async Task Echo(SslStream ssl)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await ssl.ReadAsync(buffer)) > 0) await ssl.WriteAsync(buffer.AsMemory(0, n));
    }
}

internal static class Load
{
    public static async Task<int> RunAsync(int port, int conns, int size, double seconds)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        long messages = 0;
        using var done = new CancellationTokenSource();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int connected = 0;
        var clients = Enumerable.Range(0, conns).Select(_ => Task.Run(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint);
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await ssl.AuthenticateAsClientAsync(Tls.Client);
            if (Interlocked.Increment(ref connected) == conns) ready.TrySetResult();
            await ready.Task;
            var message = new byte[size];
            var back = new byte[size];
            long mine = 0;
            while (!done.IsCancellationRequested)
            {
                await ssl.WriteAsync(message);
                await ssl.ReadExactlyAsync(back);
                mine++;
            }
            Interlocked.Add(ref messages, mine);
            await ssl.ShutdownAsync();
        })).ToArray();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        done.CancelAfter(TimeSpan.FromSeconds(seconds));
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(seconds + 30));
        double elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine(FormattableString.Invariant($"tlsbench: conns={conns} size={size} seconds={elapsed:F2} msgs={messages} msgs/s={messages / elapsed:F0}"));
        return 0;
    }
}
