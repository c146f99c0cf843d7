// Installed-package smoke test (ci/package-smoke.sh): a Generic Host daemon on the packed LinuxEvent.Hosting, serving a
// line echo on 127.0.0.1:PORT (args: PORT reactor|proactor) from two loops. Prints "hosted: started" once the host
// runs; SIGTERM stops it gracefully: connections still open are told "bye" and closed, and the exit code is 0.
using System.Net;
using LinuxEvent;
using LinuxEvent.Hosting;
using LinuxEvent.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

int port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton(new IPEndPoint(IPAddress.Loopback, port));
builder.Services.AddLoopService<LineEcho>();
builder.Services.AddLinuxEventLoops(o =>
{
    o.Model = args[1] == "proactor" ? LoopModel.Proactor : LoopModel.Reactor;
    o.LoopCount = 2;
    o.DrainTimeout = TimeSpan.FromSeconds(5);
});
using var host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => Console.WriteLine("hosted: started"));
host.Run();
Console.WriteLine("hosted: stopped");

internal sealed class LineEcho(HostedLoop loop, IPEndPoint endpoint) : ILoopService
{
    private static readonly LoopStreamOptions Lines = new() { Codec = new LineCodec(maxLineLength: 1024) };
    private readonly HashSet<LoopStream> _open = [];

    public void Start() => loop.Listen(endpoint, (_, connection) =>
    {
        var stream = connection.ToStream(loop.Loop, Lines);
        stream.OnMessage = static (s, line) => s.WriteMessage(line);
        stream.OnClose = (s, _) => _open.Remove(s);
        _open.Add(stream);
        loop.TrackConnection(stream);
        stream.Start();
    });

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        foreach (var s in _open.ToArray())
        {
            s.WriteMessage("bye"u8);
            s.CloseAfterDrain();
        }
        return ValueTask.CompletedTask;
    }
}
