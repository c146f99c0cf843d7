using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting.Tests;

[TestFixture(LoopModel.Reactor)]
[TestFixture(LoopModel.Proactor)]
public class LoopFailureTests(LoopModel model) : HostingTest(model)
{
    private static CancellationToken Stopping(IHost host) => host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

    [Test]
    public async Task ALoopStoppedBehindTheHostsBackStopsTheApplicationWithTheFailureExitCode()
    {
        using var host = BuildHost(o =>
        {
            o.FailureExitCode = 3;
            o.Setup = h => { if (h.Index == 1) h.Loop.After(TimeSpan.FromMilliseconds(50), l => l.Stop()); };
        });
        await host.StartAsync();
        Assert.That(Stopping(host).WaitHandle.WaitOne(Timeout), Is.True, "the application was told to stop");
        Assert.That(Environment.ExitCode, Is.EqualTo(3));
        var died = Logs.WithEvent(2).Single();
        Assert.That(died.Level, Is.EqualTo(LogLevel.Critical));
        Assert.That(died.Values["LoopIndex"], Is.EqualTo(1));
        Assert.That(died.Values["LoopBackend"], Is.EqualTo(Backend));
        Assert.That(died.Exception, Is.TypeOf<InvalidOperationException>().With.Message.Contains("Loop.Stop"));
        Assert.That(Logs.WithEvent(12).Single().Values["ExitCode"], Is.EqualTo(3));
        await host.StopAsync();
        Assert.That(Service(host).Loops[0].Loop.IsDisposed, Is.True);
    }

    [Test]
    public async Task ALoopWhoseRunThrowsIsReportedWithItsException()
    {
        using var host = BuildHost();
        await host.StartAsync();
        // Without a handler, a throwing callback ends Run: this is how a loop dies despite the host's logging handler.
        OnLoop(host, 0, h =>
        {
            h.Loop.UnhandledException = null;
            h.Loop.Post(_ => throw new InvalidDataException("fatal on loop 0"));
            return 0;
        });
        Assert.That(Stopping(host).WaitHandle.WaitOne(Timeout), Is.True);
        Assert.That(Environment.ExitCode, Is.EqualTo(1), "the default failure exit code");
        var died = Logs.WithEvent(2).Single();
        Assert.That(died.Exception, Is.TypeOf<InvalidDataException>().With.Message.EqualTo("fatal on loop 0"));
        Assert.That(died.Values["LoopIndex"], Is.EqualTo(0));
        await host.StopAsync();
    }

    [Test]
    public async Task TheRestartPolicyReplacesADeadLoopAndRunsItsSetupAgain()
    {
        var probe = new Probe();
        var setups = new ConcurrentDictionary<int, int>();
        using var host = BuildHost(o =>
        {
            o.FailurePolicy = LoopFailurePolicy.Restart;
            o.Setup = h =>
            {
                int n = setups.AddOrUpdate(h.Index, 1, (_, v) => v + 1);
                if (h.Index == 1 && n == 1) h.Loop.After(TimeSpan.FromMilliseconds(50), l => l.Stop());   // dies once
            };
        }, s => s.AddSingleton(probe).AddLoopService<ProbeLoopService>());
        await host.StartAsync();
        var first = Service(host).Loops[1];
        // The restart is logged once LoopGroup.Restart has returned, which is after the new loop's setup ran: wait for both.
        WaitUntil(() => setups.GetValueOrDefault(1) == 2 && !ReferenceEquals(Service(host).Loops[1], first)
            && Logs.WithEvent(11).Count == 1, "loop 1 to be restarted");
        var second = Service(host).Loops[1];
        Assert.That(second.Index, Is.EqualTo(1));
        Assert.That(first.Loop.IsDisposed, Is.True);
        Assert.That(OnLoop(host, 1, h => h.Loop.IsRunning), Is.True, "the new loop runs");
        Assert.That(Stopping(host).IsCancellationRequested, Is.False, "the application keeps running");
        Assert.That(Environment.ExitCode, Is.Zero);
        Assert.That(Logs.WithEvent(2), Has.Count.EqualTo(1), "the death was logged");
        Assert.That(Logs.WithEvent(11), Has.Count.EqualTo(1), "the restart was logged");
        Assert.That(probe.Events.Count(e => e.StartsWith("start 1 ", StringComparison.Ordinal)), Is.EqualTo(2), "a new loop service for the new loop");
        Assert.That(probe.Events.Count(e => e.StartsWith("dispose 1 ", StringComparison.Ordinal)), Is.EqualTo(1), "the dead loop's service was disposed");
        await host.StopAsync();
        Assert.That(second.Loop.IsDisposed, Is.True);
    }

    [Test]
    public async Task MoreRestartsThanAllowedStopTheApplication()
    {
        using var host = BuildHost(o =>
        {
            o.FailurePolicy = LoopFailurePolicy.Restart;
            o.MaxRestarts = 1;
            o.Setup = h => { if (h.Index == 1) h.Loop.After(TimeSpan.FromMilliseconds(30), l => l.Stop()); };   // always dies
        });
        await host.StartAsync();
        Assert.That(Stopping(host).WaitHandle.WaitOne(Timeout), Is.True);
        Assert.That(Environment.ExitCode, Is.EqualTo(1));
        Assert.That(Logs.WithEvent(11), Has.Count.EqualTo(1), "one restart");
        Assert.That(Logs.WithEvent(18), Has.Count.EqualTo(1), "then 'too many restarts'");
        await host.StopAsync();
    }

    [Test]
    public async Task LoopsEndedByTheHostsOwnStopAreNotFailures()
    {
        using var host = BuildHost();
        await host.StartAsync();
        await host.StopAsync();
        Assert.That(Logs.WithEvent(2), Is.Empty);
        Assert.That(Environment.ExitCode, Is.Zero);
        Assert.That(Logs.WithEvent(12), Is.Empty, "the failure policy did not act");
        Assert.That(Logs.WithEvent(16), Is.Empty, "no loop ended before the host stopped it");
    }
}
