// tls-echo: a TLS echo server on LinuxEvent. Each connection is a LoopStream; LoopStream.AsStream() gives SslStream
// the Stream it wraps; the handshake and the echo run as tasks on the loop thread. The same code on both models.
//
//   tls-echo --model reactor|proactor [--port 7443] [--cert cert.pem --key key.pem]
//   openssl s_client -connect 127.0.0.1:7443 -CAfile cert.pem -servername localhost
//
// Without --cert/--key the server makes a self-signed certificate for "localhost" at start and prints its SHA-256
// fingerprint. Lines typed into s_client come back. A client's close_notify (or plain EOF) is answered with the
// server's own close_notify, then the connection closes. SIGINT/SIGTERM close the listener and every connection and
// exit 0. Listens on 127.0.0.1 only.
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LinuxEvent;
using LinuxEvent.Net;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

LoopModel? model = null;
int port = 7443;
string? certPath = null, keyPath = null;
for (int i = 0; i < args.Length; i++)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--model" when value is "reactor" or "proactor": model = value == "reactor" ? LoopModel.Reactor : LoopModel.Proactor; i++; break;
        case "--port" when int.TryParse(value, out int p) && p is > 0 and < 65536: port = p; i++; break;
        case "--cert" when value is not null: certPath = value; i++; break;
        case "--key" when value is not null: keyPath = value; i++; break;
        default:
            Console.Error.WriteLine($"tls-echo: bad argument '{args[i]}'");
            Console.Error.WriteLine("usage: tls-echo --model reactor|proactor [--port P] [--cert cert.pem --key key.pem]");
            return 2;
    }
}
if (model is null || (certPath is null) != (keyPath is null))
{
    Console.Error.WriteLine("usage: tls-echo --model reactor|proactor [--port P] [--cert cert.pem --key key.pem]   (the model is always explicit)");
    return 2;
}

using var certificate = certPath is not null ? X509Certificate2.CreateFromPemFile(certPath, keyPath) : SelfSigned();
Loop loop;
try { loop = Loop.Create(model.Value); }
catch (LinuxEventUnsupportedException ex)
{
    Console.Error.WriteLine($"tls-echo: the {model} model is not available here: {ex.Message}");
    return 3;
}
using (loop)
{
    loop.UnhandledException = (_, ex) => Console.Error.WriteLine($"tls-echo: unexpected error: {ex}");
    var server = new TlsEchoServer(loop, certificate);
    try
    {
        loop.Run(() => server.RunAsync(new IPEndPoint(IPAddress.Loopback, port)));
    }
    catch (Exception ex) when (ex is ILinuxEventError)
    {
        Console.Error.WriteLine($"tls-echo: {ex.Message}");
        return 1;
    }
}
return 0;

static X509Certificate2 SelfSigned()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
    var san = new SubjectAlternativeNameBuilder();
    san.AddDnsName("localhost");
    san.AddIpAddress(IPAddress.Loopback);
    request.CertificateExtensions.Add(san.Build());
    using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
    var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    Console.WriteLine($"tls-echo: self-signed certificate for localhost, SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)}");
    return certificate;
}

/// <summary>Accepts connections and echoes each one over TLS, all on the loop thread.</summary>
internal sealed class TlsEchoServer(Loop loop, X509Certificate2 certificate)
{
    private readonly HashSet<LoopStream> _open = new();
    private readonly SslServerAuthenticationOptions _tls = new() { ServerCertificate = certificate };
    private bool _stopping;

    public async Task RunAsync(IPEndPoint endpoint)
    {
        using var listener = Listener.Bind(loop, endpoint, onAccept: null);
        var stop = new TaskCompletionSource();
        using var term = loop.Signal(15, (_, _) => stop.TrySetResult());
        using var interrupt = loop.Signal(2, (_, _) => stop.TrySetResult());
        Console.WriteLine($"tls-echo: {loop.BackendName} {loop.Model} loop, listening on {listener.LocalEndPoint}");
        while (true)
        {
            var accept = listener.AcceptAsync().AsTask();
            if (await Task.WhenAny(accept, stop.Task) == stop.Task) break;
            var stream = (await accept).ToStream(loop);
            _open.Add(stream);
            _ = loop.Spawn(() => EchoAsync(stream));
        }
        _stopping = true;
        Console.WriteLine($"tls-echo: stopping, closing {_open.Count} connection(s)");
        foreach (var s in _open.ToArray()) s.Close();
    }

    private async Task EchoAsync(LoopStream stream)
    {
        try
        {
            // The adapter's calls are LoopStream's own here (this task runs on the loop thread); SslStream may call
            // it from other threads too, and those calls would be marshalled onto the loop.
            await using var tls = new SslStream(stream.AsStream());
            await tls.AuthenticateAsServerAsync(_tls);
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await tls.ReadAsync(buffer)) > 0) await tls.WriteAsync(buffer.AsMemory(0, n));
            await tls.ShutdownAsync();                    // answer the client's close_notify with ours
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // A client that fails the handshake or resets; at shutdown, the connections the server closed.
            if (!_stopping) Console.Error.WriteLine($"tls-echo: connection on fd {stream.Fd}: {ex.Message}");
        }
        finally
        {
            // Disposing the SslStream disposed the adapter, which closed the stream once its queue drained.
            _open.Remove(stream);
        }
    }
}
