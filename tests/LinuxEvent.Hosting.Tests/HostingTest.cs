using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// Base of the in-process hosting tests: builds a Generic Host (no default configuration, a recording logger, a
/// lifetime that leaves the test process's signals alone) with the loops of the fixture's model.
/// </summary>
public abstract class HostingTest(LoopModel model) : FdCheckedTest
{
    protected LoopModel Model { get; } = model;

    protected TestLoggerProvider Logs { get; private set; } = new();

    /// <summary>The backend name the fixture's model runs on.</summary>
    protected string Backend => Model == LoopModel.Reactor ? "epoll" : "uring";

    /// <summary>Bound on every wait for something another thread does.</summary>
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [SetUp]
    public void RequireModelAndResetState()
    {
        if (Model == LoopModel.Proactor)
        {
            try { Loop.CreateProactor().Dispose(); }
            catch (LinuxEventUnsupportedException ex) { Assert.Ignore("io_uring unavailable here: " + ex.Message); }
        }
        Logs = new TestLoggerProvider();
        Environment.ExitCode = 0;
    }

    [TearDown]
    public void ResetExitCode() => Environment.ExitCode = 0;    // a test of the failure policy must not fail the run

    protected IHost BuildHost(Action<LinuxEventHostingOptions>? configure = null, Action<IServiceCollection>? services = null,
        TimeSpan? shutdownTimeout = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(Logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30));
        builder.Services.AddLinuxEventLoops(o =>
        {
            o.Model = Model;
            o.LoopCount = 2;
            configure?.Invoke(o);
        });
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    protected static LinuxEventHostedService Service(IHost host) => host.Services.GetRequiredService<LinuxEventHostedService>();

    /// <summary>Runs <paramref name="action"/> on loop <paramref name="index"/>'s thread and waits for it.</summary>
    protected static T OnLoop<T>(IHost host, int index, Func<HostedLoop, T> action)
    {
        var hosted = Service(host).Loops[index];
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        hosted.Loop.Post(_ =>
        {
            try { done.SetResult(action(hosted)); }
            catch (Exception ex) { done.SetException(ex); }
        });
        Assert.That(done.Task.Wait(Timeout), Is.True, $"loop {index} ran the action");
        return done.Task.Result;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds, re-checking as the loops make progress.</summary>
    protected static void WaitUntil(Func<bool> condition, string what) => WaitUntil(condition, () => what);

    /// <summary>As <see cref="WaitUntil(Func{bool}, string)"/>, with a description built at the time of failure.</summary>
    protected static void WaitUntil(Func<bool> condition, Func<string> what)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var tick = new ManualResetEventSlim();
        while (!condition())
        {
            if (sw.Elapsed > Timeout) Assert.Fail($"timed out waiting for {what()}");
            tick.Wait(10);
        }
    }

    /// <summary>A blocking TCP client on 127.0.0.1 with bounded reads.</summary>
    protected static System.Net.Sockets.Socket Connect(int port)
    {
        var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)Timeout.TotalMilliseconds,
            SendTimeout = (int)Timeout.TotalMilliseconds,
        };
        try { s.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port)); }
        catch
        {
            s.Dispose();
            throw;
        }
        return s;
    }

    /// <summary>Sends <paramref name="text"/> and reads back as many bytes.</summary>
    protected static string Echo(System.Net.Sockets.Socket s, string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        s.Send(bytes);
        var back = new byte[bytes.Length];
        int got = 0;
        while (got < back.Length)
        {
            int n = s.Receive(back, got, back.Length - got, System.Net.Sockets.SocketFlags.None);
            if (n == 0) break;
            got += n;
        }
        return System.Text.Encoding.ASCII.GetString(back, 0, got);
    }
}
