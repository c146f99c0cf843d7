using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting.Tests;

[TestFixture(LoopModel.Reactor)]
[TestFixture(LoopModel.Proactor)]
public class HostedLoopsTests(LoopModel model) : HostingTest(model)
{
    [Test]
    public async Task EachLoopRunsOnItsOwnThreadWithItsOwnLoopServicesThenTheSetupDelegate()
    {
        var probe = new Probe();
        var setupThreads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        using var host = BuildHost(o =>
        {
            o.LoopCount = 2;
            o.Setup = h =>
            {
                setupThreads[h.Index] = Environment.CurrentManagedThreadId;
                probe.Add($"setup {h.Index}");
            };
        }, s => s.AddSingleton(probe).AddLoopService<ProbeLoopService>());
        await host.StartAsync();
        var service = Service(host);
        Assert.That(service.Loops, Has.Count.EqualTo(2));
        Assert.That(service.Loops.Select(l => l.Index), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(service.Loops.Select(l => l.Loop.Model), Is.All.EqualTo(Model));
        Assert.That(service.Loops.Select(l => l.Loop.BackendName), Is.All.EqualTo(Backend));
        Assert.That(service.Loops.Select(l => l.Loop.IsRunning), Is.All.True);
        Assert.That(setupThreads.Values.Distinct().Count(), Is.EqualTo(2), "one thread per loop");
        Assert.That(setupThreads.Values, Does.Not.Contain(Environment.CurrentManagedThreadId));
        for (int i = 0; i < 2; i++)
        {
            var events = probe.Events.Where(e => e.Contains($" {i}")).ToList();
            // The loop service was created for this loop and started on its thread, before the setup delegate.
            Assert.That(events.IndexOf($"start {i} on {setupThreads[i]} {Model} {Backend}"), Is.GreaterThanOrEqualTo(0), string.Join("; ", events));
            Assert.That(events.IndexOf($"start {i} on {setupThreads[i]} {Model} {Backend}"), Is.LessThan(events.IndexOf($"setup {i}")));
            Assert.That(OnLoop(host, i, h => Environment.CurrentManagedThreadId), Is.EqualTo(setupThreads[i]), "the loop runs on the thread it was set up on");
        }
        var loops = service.Loops.Select(l => l.Loop).ToArray();

        await host.StopAsync();
        for (int i = 0; i < 2; i++)
        {
            Assert.That(probe.Events, Does.Contain($"stop {i} on-loop=True stopping=True"));
            // Disposed on the loop's own thread, after its Run returned and before the loop was disposed.
            Assert.That(probe.Events, Does.Contain($"dispose {i} on {setupThreads[i]} running=False disposed=False"));
        }
        Assert.That(loops.Select(l => l.IsDisposed), Is.All.True);
        Assert.That(Logs.WithEvent(7), Has.Count.EqualTo(1), "'Loops stopped' logged");
    }

    [Test]
    public async Task BackendOptionsReachEveryLoop()
    {
        using var host = BuildHost(o =>
        {
            o.LoopCount = 3;
            o.ReactorBackend = ReactorBackend.Fake;
            o.ProactorBackend = ProactorBackend.Fake;
            o.QueueDepth = 64;
        });
        await host.StartAsync();
        Assert.That(Service(host).Loops.Select(l => l.Loop.BackendName), Is.EqualTo(new[] { "fake", "fake", "fake" }));
        Assert.That(Service(host).Loops.Select(l => l.LoopCount), Is.All.EqualTo(3));
        await host.StopAsync();
    }

    [Test]
    public async Task AnUnhandledExceptionIsLoggedWithTheLoopIndexAndBackendAndTheLoopKeepsRunning()
    {
        using var host = BuildHost();
        await host.StartAsync();
        var loop1 = Service(host).Loops[1].Loop;
        loop1.Post(_ => throw new InvalidDataException("callback failed on loop 1"));
        WaitUntil(() => Logs.WithEvent(1).Count > 0, "the unhandled exception to be logged");
        var entry = Logs.WithEvent(1).Single();
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(entry.Exception, Is.TypeOf<InvalidDataException>().With.Message.EqualTo("callback failed on loop 1"));
        Assert.That(entry.Values["LoopIndex"], Is.EqualTo(1));
        Assert.That(entry.Values["LoopBackend"], Is.EqualTo(Backend));
        Assert.That(entry.Category, Is.EqualTo(typeof(LinuxEventHostedService).FullName));
        Assert.That(OnLoop(host, 1, h => h.Loop.IsRunning), Is.True, "the loop survived");
        Assert.That(Logs.WithEvent(2), Is.Empty, "no loop died");
        await host.StopAsync();
        Assert.That(Environment.ExitCode, Is.Zero);
    }

    [Test]
    public void ASetupFailureFailsTheHostStartAndLeavesNothingRunning()
    {
        var probe = new Probe();
        using var host = BuildHost(o => o.Setup = h =>
        {
            if (h.Index == 1) throw new InvalidDataException("no listener for loop 1");
        }, s => s.AddSingleton(probe).AddLoopService<ProbeLoopService>());
        var ex = Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());
        Assert.That(ex!.InnerExceptions.Single(), Is.TypeOf<InvalidDataException>());
        Assert.That(Logs.WithEvent(17), Has.Count.EqualTo(1), "start failure logged");
        // Both loop services were released: the failed loop's at once, the other's when its loop was stopped.
        Assert.That(probe.Events.Count(e => e.StartsWith("dispose ", StringComparison.Ordinal)), Is.EqualTo(2), string.Join("; ", probe.Events));
    }

    [Test]
    public async Task ListeningOnSeveralLoopsSharesOnePortAndTheKernelSpreadsConnections()
    {
        var probe = new Probe { Port = FreePort() };
        using var host = BuildHost(o => o.LoopCount = 2, s => s.AddSingleton(probe).AddLoopService<EchoLoopService>());
        await host.StartAsync();
        Assert.That(probe.Ports.Values, Is.All.EqualTo(probe.Port));
        var clients = new List<System.Net.Sockets.Socket>();
        try
        {
            for (int i = 0; i < 48; i++)
            {
                var c = Connect(probe.Port);
                clients.Add(c);
                Assert.That(Echo(c, $"hello {i}"), Is.EqualTo($"hello {i}"));
            }
            Assert.That(probe.Accepted.Values.Sum(), Is.EqualTo(48));
            Assert.That(probe.Accepted.Keys, Is.EquivalentTo(new[] { 0, 1 }), "both loops accepted (SO_REUSEPORT)");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
        await host.StopAsync();
    }

    [Test]
    public async Task PortZeroOnSeveralLoopsIsRefusedWithAClearMessage()
    {
        using var host = BuildHost(o => o.Setup = h => h.Listen(new IPEndPoint(IPAddress.Loopback, 0), null));
        var ex = Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());
        Assert.That(ex!.InnerExceptions.First(), Is.TypeOf<ArgumentException>().With.Message.Contains("port 0"));
        await Task.CompletedTask;
    }

    /// <summary>A port nobody listens on right now (bound and released; the tests run one at a time).</summary>
    private static int FreePort()
    {
        int fd = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        try { return ((IPEndPoint)Posix.GetLocalEndPoint(fd)!).Port; }
        finally { Posix.Close(fd); }
    }
}
