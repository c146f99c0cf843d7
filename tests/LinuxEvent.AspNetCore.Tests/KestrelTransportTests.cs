using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LinuxEvent.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.AspNetCore.Tests;

/// <summary>
/// A stock minimal-API app served by Kestrel on the LinuxEvent transport, on both models: real HTTP/1.1 requests over
/// 127.0.0.1 (GET, POST bodies, keep-alive, TLS through Kestrel's own UseHttps), then a clean shutdown with no fd left.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class KestrelTransportTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private LoopModel Model => backend.Model;

    private void RequireModel()
    {
        // Creating (and disposing) one loop tells whether io_uring is available here.
        using var probe = backend.Create();
    }

    private static X509Certificate2 Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>The app under test: an unmodified minimal API, plus one endpoint that says which transport served it.</summary>
    private static WebApplication BuildApp(LoopModel model, X509Certificate2 certificate, bool inline = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseLinuxEvent(o =>
        {
            o.Model = model;
            o.LoopCount = 2;
            o.UnsafePreferInlineScheduling = inline;
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        app.MapGet("/", () => "Hello, World!");
        app.MapGet("/json", () => new { message = "Hello, World!", items = Enumerable.Range(0, 100).ToArray() });
        app.MapGet("/connection", (HttpContext c) => c.Connection.Id);
        app.MapGet("/loop", (HttpContext c) =>
            c.Features.Get<ILoopConnectionFeature>() is { } lc
                ? c.RequestServices.GetRequiredService<LinuxEventTransportFactory>().Loops!.ToList().IndexOf(lc.Loop).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : "-1");
        app.MapGet("/transport", (HttpContext c) =>
            c.Features.Get<ILoopConnectionFeature>() is { } f ? $"{f.Loop.Model}/{f.Loop.BackendName}" : "not LinuxEvent");
        app.MapPost("/echo", async (HttpRequest request) =>
        {
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            return Results.Bytes(body.ToArray(), "application/octet-stream");
        });
        return app;
    }

    private static (Uri Http, Uri Https) Addresses(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return (new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal))),
                new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal))));
    }

    private static HttpClient Client(X509Certificate2 certificate) => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() },
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    { Timeout = Bound };

    private static void RunBounded(Func<Task> test)
    {
        var task = Task.Run(test);
        Assert.That(task.Wait(Bound + Bound), Is.True, "the test did not finish in time");
        task.GetAwaiter().GetResult();
    }

    [Test]
    public void AStockMinimalApiServesGetPostKeepAliveAndTlsThenShutsDownCleanly([Values] bool inline)
    {
        RequireModel();
        RunBounded(async () =>
        {
            using var certificate = Certificate();
            await using var app = BuildApp(Model, certificate, inline);
            await app.StartAsync();
            var (http, https) = Addresses(app);
            var factory = app.Services.GetRequiredService<LinuxEventTransportFactory>();
            Assert.That(factory.Loops, Has.Count.EqualTo(2), "the transport's loops are running");

            using (var client = Client(certificate))
            {
                Assert.That(await client.GetStringAsync(new Uri(http, "/")), Is.EqualTo("Hello, World!"));
                Assert.That(await client.GetStringAsync(new Uri(http, "/transport")), Is.EqualTo($"{Model}/{(Model == LoopModel.Reactor ? "epoll" : "uring")}"));
                string json = await client.GetStringAsync(new Uri(http, "/json"));
                Assert.That(json, Does.StartWith("{\"message\":\"Hello, World!\",\"items\":[0,1,2"));

                // Keep-alive: sequential requests reuse one connection.
                string first = await client.GetStringAsync(new Uri(http, "/connection"));
                string second = await client.GetStringAsync(new Uri(http, "/connection"));
                Assert.That(second, Is.EqualTo(first), "keep-alive reused the connection");

                foreach (int size in new[] { 0, 1, 5000, 100_000, 1 << 20 })
                {
                    var body = new byte[size];
                    new Random(size).NextBytes(body);
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    using var response = await client.PostAsync(new Uri(http, "/echo"), content);
                    Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                    var back = await response.Content.ReadAsByteArrayAsync();
                    Assert.That(back.AsSpan().SequenceEqual(body), Is.True, $"POST body of {size} bytes echoed");
                }

                // A chunked request body (no Content-Length).
                using (var chunked = new StreamContent(new MemoryStream(new byte[70_000])))
                {
                    chunked.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(http, "/echo")) { Content = chunked };
                    request.Headers.TransferEncodingChunked = true;
                    using var response = await client.SendAsync(request);
                    Assert.That((await response.Content.ReadAsByteArrayAsync()).Length, Is.EqualTo(70_000));
                }

                // TLS: Kestrel's own UseHttps over the transport's pipe.
                Assert.That(await client.GetStringAsync(new Uri(https, "/")), Is.EqualTo("Hello, World!"));
                Assert.That(await client.GetStringAsync(new Uri(https, "/transport")), Does.StartWith(Model.ToString()));
                var big = new byte[300_000];
                new Random(1).NextBytes(big);
                using var tlsResponse = await client.PostAsync(new Uri(https, "/echo"), new ByteArrayContent(big));
                Assert.That((await tlsResponse.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(big), Is.True, "a TLS POST body round trip");
            }
            await app.StopAsync();
        });
    }

    [Test]
    public void ManyConcurrentConnectionsAreSpreadOverTheLoopsAndAllAnswered()
    {
        RequireModel();
        RunBounded(async () =>
        {
            using var certificate = Certificate();
            await using var app = BuildApp(Model, certificate);
            await app.StartAsync();
            var (http, _) = Addresses(app);
            var handlers = Enumerable.Range(0, 24).Select(_ => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { Timeout = Bound }).ToArray();
            try
            {
                var replies = await Task.WhenAll(handlers.Select(async c =>
                {
                    var texts = new List<string>();
                    for (int i = 0; i < 5; i++) texts.Add(await c.GetStringAsync(new Uri(http, "/loop")));
                    return texts;
                }));
                var loops = replies.SelectMany(r => r).Select(int.Parse).ToList();
                Assert.That(loops, Has.Count.EqualTo(120).And.All.InRange(0, 1), "every request answered by one of the two loops");
                Assert.That(loops.Distinct().Count(), Is.EqualTo(2), "SO_REUSEPORT spread 24 connections over both loops");
            }
            finally
            {
                foreach (var h in handlers) h.Dispose();
            }
            await app.StopAsync();
        });
    }

    [Test]
    public void BindingAPortInUseRaisesAddressInUse()
    {
        RequireModel();
        RunBounded(async () =>
        {
            using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            taken.Listen(1);
            int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseLinuxEvent(o => { o.Model = Model; o.LoopCount = 1; });
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
            await using var app = builder.Build();
            var error = Assert.ThrowsAsync<IOException>(() => app.StartAsync());
            Assert.That(error!.ToString(), Does.Contain("in use").IgnoreCase);
        });
    }

    [Test]
    public void ListenLocalhostServesEveryLoopbackAddressTheHostHas()
    {
        RequireModel();
        RunBounded(async () =>
        {
            int port;
            using (var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                port = ((IPEndPoint)probe.LocalEndPoint!).Port;        // free a moment ago; localhost takes no port 0
            }
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseLinuxEvent(o => { o.Model = Model; o.LoopCount = 1; });
            builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port));
            await using var app = builder.Build();
            app.MapGet("/", () => "local");
            await app.StartAsync();
            using var client = new HttpClient { Timeout = Bound };
            Assert.That(await client.GetStringAsync($"http://127.0.0.1:{port}/"), Is.EqualTo("local"));
            if (System.Net.Sockets.Socket.OSSupportsIPv6)
            {
                // Kestrel tolerates a loopback it cannot bind (a host without IPv6) only if the transport raises a
                // SocketException for it; where [::1] exists it must be served too.
                try { Assert.That(await client.GetStringAsync($"http://[::1]:{port}/"), Is.EqualTo("local")); }
                catch (HttpRequestException ex) when (ex.InnerException is System.Net.Sockets.SocketException) { Assert.Warn("[::1] is not reachable on this host: " + ex.Message); }
            }
            await app.StopAsync();
        });
    }

    [Test]
    public void TheServiceCollectionRegistrationAloneSelectsTheTransport()
    {
        RequireModel();
        RunBounded(async () =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddLinuxEventTransport(o => { o.Model = Model; o.LoopCount = 1; });
            builder.Services.AddLinuxEventTransport();              // twice: still one transport
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            await using var app = builder.Build();
            app.MapGet("/transport", (HttpContext c) => c.Features.Get<ILoopConnectionFeature>() is null ? "sockets" : "LinuxEvent");
            await app.StartAsync();
            Assert.That(app.Services.GetServices<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>().Count(f => f is LinuxEventTransportFactory), Is.EqualTo(1));
            var http = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            using var client = new HttpClient { Timeout = Bound };
            Assert.That(await client.GetStringAsync(new Uri(http, "/transport")), Is.EqualTo("LinuxEvent"));
            await app.StopAsync();
        });
    }
}
