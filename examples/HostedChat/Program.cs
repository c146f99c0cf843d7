// hosted-chat: the line-based chat room of examples/chat-server.cs as a Generic Host daemon on LinuxEvent.Hosting.
//
//   dotnet run --project examples/HostedChat -- [--model reactor|proactor] [--loops N] [--port P] [--drain-seconds S]
//   nc 127.0.0.1 7000
//
// One chat room spread over N loops (default: one per CPU), each loop accepting its share of the clients (SO_REUSEPORT,
// or a shared socket-activated listener). Messages reach clients on other loops through Loop.Post; per-loop state
// needs no locks. Under systemd it takes the socket passed by a .socket unit (LISTEN_FDS), reports READY=1 once every
// loop runs, STOPPING=1 when it stops, and pings the watchdog from the loops. SIGTERM/SIGINT (the host's lifetime)
// tell every client the server is going away, let their output drain (up to --drain-seconds), then exit 0.
using LinuxEvent;
using LinuxEvent.Examples.HostedChat;
using LinuxEvent.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var settings = ChatSettings.Parse(args);
var builder = Host.CreateApplicationBuilder();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
// Under systemd: journal-friendly log format and SystemdLifetime's READY/STOPPING (LinuxEvent.Hosting then sends only
// the watchdog pings and STATUS). Elsewhere it does nothing.
builder.Services.AddSystemd();
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton<ChatDirectory>();
builder.Services.AddLoopService<ChatLoop>();
builder.UseLinuxEvent(o =>
{
    o.Model = settings.Model;
    if (settings.Loops > 0) o.LoopCount = settings.Loops;
    o.DrainTimeout = settings.Drain;
});
builder.Build().Run();
