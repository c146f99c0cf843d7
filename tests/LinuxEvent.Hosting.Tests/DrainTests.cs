using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace LinuxEvent.Hosting.Tests;

[TestFixture(LoopModel.Reactor)]
[TestFixture(LoopModel.Proactor)]
public class DrainTests(LoopModel model) : HostingTest(model)
{
    [Test]
    public async Task StoppingClosesTheListenersLetsOpenConnectionsFinishThenStops()
    {
        var probe = new Probe();
        using var host = BuildHost(o => o.LoopCount = 1, s => s.AddSingleton(probe).AddLoopService<EchoLoopService>());
        await host.StartAsync();
        int port = probe.Ports[0];
        using var client = Connect(port);
        Assert.That(Echo(client, "before stop"), Is.EqualTo("before stop"));
        var hosted = Service(host).Loops[0];
        Assert.That(OnLoop(host, 0, h => h.ConnectionCount), Is.EqualTo(1), "the connection is tracked");

        var stop = host.StopAsync();
        Assert.That(probe.StopEntered.Task.Wait(Timeout), Is.True, "the loop service was asked to stop");
        Assert.That(hosted.Stopping.IsCancellationRequested, Is.True);
        // No new connections: the listener is gone.
        var refused = Assert.Throws<SocketException>(() => Connect(port).Dispose());
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        // The open connection is still served while the host drains.
        Assert.That(Echo(client, "while draining"), Is.EqualTo("while draining"));
        Assert.That(stop.IsCompleted, Is.False, "the host waits for the open connection");

        client.Shutdown(SocketShutdown.Send);                 // the client finishes: the connection closes
        Assert.That(stop.Wait(Timeout), Is.True, "the host stopped once the connection closed");
        Assert.That(Logs.WithEvent(6), Is.Empty, "nothing had to be closed at a deadline");
        Assert.That(hosted.Loop.IsDisposed, Is.True);
        Assert.That(client.Receive(new byte[16]), Is.Zero, "the server side closed cleanly");
    }

    [Test]
    public async Task AtTheDrainDeadlineOpenConnectionsAreClosedAndTheServicesTokenIsCancelledOnTheLoop()
    {
        var probe = new Probe { HoldStopUntilDeadline = true };
        using var host = BuildHost(o =>
        {
            o.LoopCount = 1;
            o.DrainTimeout = TimeSpan.FromMilliseconds(300);
        }, s => s.AddSingleton(probe).AddLoopService<EchoLoopService>());
        await host.StartAsync();
        using var client = Connect(probe.Ports[0]);
        Assert.That(Echo(client, "idle after this"), Is.EqualTo("idle after this"));

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(host.StopAsync().Wait(Timeout), Is.True);
        Assert.That(sw.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "it waited for the drain deadline");
        Assert.That(probe.StopTokenCancelled, Is.True, "StopAsync's token was cancelled, on the loop thread");
        var closed = Logs.WithEvent(6).Single();
        Assert.That(closed.Values["Connections"], Is.EqualTo(1));
        Assert.That(closed.Values["LoopIndex"], Is.EqualTo(0));
        try { Assert.That(client.Receive(new byte[16]), Is.Zero, "the connection was closed by the server"); }
        catch (SocketException ex) { Assert.That(ex.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset)); }
    }

    [Test]
    public async Task WithoutADrainTimeoutTheHostsShutdownTimeoutIsTheDeadline()
    {
        var probe = new Probe();
        using var host = BuildHost(o => o.LoopCount = 1, s => s.AddSingleton(probe).AddLoopService<EchoLoopService>(),
            shutdownTimeout: TimeSpan.FromMilliseconds(300));
        await host.StartAsync();
        using var client = Connect(probe.Ports[0]);
        Assert.That(Echo(client, "x"), Is.EqualTo("x"));
        Assert.That(host.StopAsync().Wait(Timeout), Is.True);
        Assert.That(Logs.WithEvent(6).Single().Values["Connections"], Is.EqualTo(1));
    }

    [Test]
    public async Task TrackedTasksAreAwaitedByTheDrain()
    {
        bool finished = false, loopAliveWhenFinished = false;
        using var host = BuildHost(o => o.Setup = h =>
        {
            if (h.Index != 1) return;
            h.TrackTask(h.Loop.Spawn(async () =>
            {
                try { await h.Loop.DelayAsync(TimeSpan.FromMinutes(5), h.Stopping); }
                catch (OperationCanceledException) { }
                await h.Loop.DelayAsync(TimeSpan.FromMilliseconds(100));    // some last work after the stop began
                loopAliveWhenFinished = !h.Loop.IsDisposed && h.Loop.IsOnLoopThread;
                finished = true;
            }));
        });
        await host.StartAsync();
        Assert.That(host.StopAsync().Wait(Timeout), Is.True);
        Assert.That(finished, Is.True, "the host waited for the tracked task");
        Assert.That(loopAliveWhenFinished, Is.True);
        Assert.That(Logs.WithEvent(6), Is.Empty);
    }

    [Test]
    public async Task AFaultingTrackedTaskIsLogged()
    {
        using var host = BuildHost(o => o.Setup = h =>
        {
            if (h.Index == 0) h.TrackTask(h.Loop.Spawn(async () =>
            {
                await h.Loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                throw new InvalidDataException("handler failed");
            }));
        });
        await host.StartAsync();
        // Spawn reports the exception to the loop once, and the tracking reports the task's fault: both are logged.
        WaitUntil(() => Logs.WithEvent(1).Any(e => e.Exception is InvalidDataException), "the fault to be logged");
        await host.StopAsync();
    }
}
