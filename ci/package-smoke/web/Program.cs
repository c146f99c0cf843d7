// Installed-package smoke test (ci/package-smoke.sh): a stock minimal-API app on Kestrel with the packed
// LinuxEvent.AspNetCore transport (args: URL reactor|proactor). Prints "web: transport=..." with the listener factory
// Kestrel resolved, so the script can tell the requests went through the loops; SIGTERM stops it with exit code 0.
using LinuxEvent;
using Microsoft.AspNetCore.Connections;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var builder = WebApplication.CreateBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls(args[0]);
if (args[1] == "proactor") builder.WebHost.UseLinuxEvent(o => o.Model = LoopModel.Proactor);
else builder.WebHost.UseLinuxEvent();                          // the default: the reactor, one loop per core
var app = builder.Build();
app.MapGet("/hello", () => "Hello from the loops");
app.MapPost("/echo", async (HttpRequest request) => await new StreamReader(request.Body).ReadToEndAsync());
app.Lifetime.ApplicationStarted.Register(() =>
    Console.WriteLine($"web: transport={app.Services.GetRequiredService<IConnectionListenerFactory>().GetType().Name}"));
app.Run();
