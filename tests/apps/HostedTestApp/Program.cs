// A hosted echo server for the hosting tests, started as a child process the way systemd would start it.
//   HostedTestApp [--model reactor|proactor] [--loops N] [--port P] [--drain-ms MS] [--kill-loop I] [--policy stop|restart]
// Listens on every activated socket (LISTEN_FDS), else on 127.0.0.1:P. Prints "app: started ..." once the host has
// started (with what socket activation left in the environment), and "app: exiting" at the end.
using LinuxEvent;
using LinuxEvent.Hosting;
using LinuxEvent.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var settings = AppSettings.Parse(args);
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Services.AddSingleton(settings);
builder.Services.AddLoopService<EchoService>();
builder.Services.AddLinuxEventLoops(o =>
{
    o.Model = settings.Model;
    o.LoopCount = settings.Loops;
    o.FailurePolicy = settings.Restart ? LoopFailurePolicy.Restart : LoopFailurePolicy.StopApplication;
    if (settings.DrainMs >= 0) o.DrainTimeout = TimeSpan.FromMilliseconds(settings.DrainMs);
});
using var host = builder.Build();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
lifetime.ApplicationStarted.Register(() =>
{
    var service = host.Services.GetRequiredService<LinuxEventHostedService>();
    string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "<unset>";
    Console.WriteLine($"app: started loops={service.Loops.Count} activated={string.Join(",", service.ActivatedSockets.Select(s => s.Name + "@" + s.Fd))} " +
        $"LISTEN_PID={Env("LISTEN_PID")} LISTEN_FDS={Env("LISTEN_FDS")} LISTEN_FDNAMES={Env("LISTEN_FDNAMES")}");
});
host.Run();
Console.WriteLine($"app: exiting with {Environment.ExitCode}");

internal sealed record AppSettings(LoopModel Model, int Loops, int Port, int DrainMs, int KillLoop, bool Restart)
{
    public static AppSettings Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        return new AppSettings(
            Get("--model", "reactor") == "proactor" ? LoopModel.Proactor : LoopModel.Reactor,
            int.Parse(Get("--loops", "2")), int.Parse(Get("--port", "0")), int.Parse(Get("--drain-ms", "-1")),
            int.Parse(Get("--kill-loop", "-1")), Get("--policy", "stop") == "restart");
    }
}

/// <summary>Echoes every byte back, on every loop; loop --kill-loop stops itself behind the host's back once.</summary>
internal sealed class EchoService(HostedLoop loop, AppSettings settings, ILogger<EchoService> logger) : ILoopService
{
    private static int s_killed;

    public void Start()
    {
        foreach (var socket in loop.ActivatedSockets)
            if (socket.IsListening) loop.ListenActivated(socket, OnAccept);
        if (loop.ActivatedSockets.Count == 0 && settings.Port > 0)
            loop.Listen(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, settings.Port), OnAccept);
        // Every loop takes a signal the host does not use (SIGHUP) without stealing the host's SIGTERM.
        loop.RegisterSignal(System.Runtime.InteropServices.PosixSignal.SIGHUP, (h, _) => logger.LogInformation("echo: SIGHUP on loop {Index}", h.Index));
        if (settings.KillLoop == loop.Index && Interlocked.Exchange(ref s_killed, 1) == 0)
            loop.Loop.After(TimeSpan.FromMilliseconds(300), l => l.Stop());
    }

    private void OnAccept(Listener listener, SocketConnection connection)
    {
        var stream = connection.ToStream(loop.Loop);
        stream.OnData = static (s, data) => s.Write(data);
        loop.TrackConnection(stream);
        stream.Start();
    }

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("echo: loop {Index} stopping with {Connections} connections", loop.Index, loop.ConnectionCount);
        return ValueTask.CompletedTask;
    }
}
