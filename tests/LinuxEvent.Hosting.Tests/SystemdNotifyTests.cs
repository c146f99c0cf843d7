namespace LinuxEvent.Hosting.Tests;

/// <summary>sd_notify from a hosted app: READY, STOPPING and loop-driven WATCHDOG pings to a test-owned socket.</summary>
[TestFixture(LoopModel.Reactor)]
[TestFixture(LoopModel.Proactor)]
public class SystemdNotifyTests(LoopModel model) : HostingTest(model)
{
    [TestCase(true)]
    [TestCase(false)]
    public async Task ReadyOnceEveryLoopRunsAndStoppingWhenTheHostStops(bool abstractName)
    {
        using var notify = new NotifySocket(abstractName);
        using var env = new EnvironmentScope().Set("NOTIFY_SOCKET", notify.Address).Set("WATCHDOG_USEC", null);
        using var host = BuildHost();
        await host.StartAsync();
        var ready = notify.WaitFor("READY=1", Timeout);
        Assert.That(ready, Is.Not.Null, "READY=1 sent");
        Assert.That(Service(host).Loops.All(l => l.Loop.IsRunning), Is.True);
        Assert.That(ready, Does.Contain($"STATUS=2 {Model.ToString().ToLowerInvariant()} loops running"));
        Assert.That(notify.Messages.Count(m => NotifySocket.HasLine(m, "STOPPING=1")), Is.Zero);

        await host.StopAsync();
        Assert.That(notify.WaitFor("STOPPING=1", Timeout), Is.Not.Null, "STOPPING=1 sent");
        Assert.That(notify.Messages.Count(m => NotifySocket.HasLine(m, "READY=1")), Is.EqualTo(1));
    }

    [Test]
    public async Task WatchdogPingsComeFromTheLoopsAndStopWhileOneLoopIsStuck()
    {
        using var notify = new NotifySocket();
        // 100 ms: a ping at least every 50 ms while every loop runs.
        using var env = new EnvironmentScope().Set("NOTIFY_SOCKET", notify.Address).Set("WATCHDOG_USEC", "100000").Set("WATCHDOG_PID", null);
        using var host = BuildHost();
        await host.StartAsync();
        Assert.That(notify.WaitFor("READY=1", Timeout), Is.Not.Null);
        Assert.That(notify.Count("WATCHDOG=1", TimeSpan.FromMilliseconds(500)), Is.GreaterThanOrEqualTo(3), "pings while all loops run");

        // Loop 1 blocks in a callback: it cannot check in, so the round never completes.
        using var release = new ManualResetEventSlim();
        using var stuck = new ManualResetEventSlim();
        Service(host).Loops[1].Loop.Post(_ => { stuck.Set(); release.Wait(Timeout); });
        Assert.That(stuck.Wait(Timeout), Is.True);
        notify.Count("WATCHDOG=1", TimeSpan.FromMilliseconds(120));        // a round that was already complete may land
        long before = Service(host).WatchdogPings;
        Assert.That(notify.Count("WATCHDOG=1", TimeSpan.FromMilliseconds(500)), Is.Zero, "no ping while loop 1 is stuck (10 periods)");
        Assert.That(Service(host).WatchdogPings, Is.EqualTo(before));

        release.Set();
        Assert.That(notify.WaitFor("WATCHDOG=1", Timeout), Is.Not.Null, "pings resume once the loop runs again");
        await host.StopAsync();
    }

    [Test]
    public async Task WithUseSystemdTheLifetimeSendsReadyAndStoppingAndTheLoopsStillPingTheWatchdog()
    {
        using var notify = new NotifySocket();
        using var env = new EnvironmentScope().Set("NOTIFY_SOCKET", notify.Address).Set("WATCHDOG_USEC", "200000").Set("WATCHDOG_PID", null);
        using var host = BuildHost(services: s => Microsoft.Extensions.Hosting.SystemdHostBuilderExtensions.AddSystemd(s));
        Assert.That(host.Services.GetService(typeof(Microsoft.Extensions.Hosting.IHostLifetime))?.GetType().Name, Is.EqualTo("SystemdLifetime"),
            "UseSystemd is active here (NOTIFY_SOCKET is set)");
        // Building the host let Hosting.Systemd's notifier take NOTIFY_SOCKET out of the environment.
        Assert.That(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), Is.Null.Or.Empty);
        await host.StartAsync();
        Assert.That(notify.WaitFor("READY=1", Timeout), Is.Not.Null, "READY=1 from SystemdLifetime");
        Assert.That(notify.WaitFor("WATCHDOG=1", Timeout), Is.Not.Null, "the loops ping through the address captured at registration");
        Assert.That(notify.WaitFor($"STATUS=2 {Model.ToString().ToLowerInvariant()} loops running", Timeout), Is.Not.Null);
        await host.StopAsync();
        Assert.That(notify.WaitFor("STOPPING=1", Timeout), Is.Not.Null);
        notify.Count("READY=1", TimeSpan.FromMilliseconds(100));
        Assert.That(notify.Messages.Count(m => NotifySocket.HasLine(m, "READY=1")), Is.EqualTo(1), "READY=1 is not repeated");
        Assert.That(notify.Messages.Count(m => NotifySocket.HasLine(m, "STOPPING=1")), Is.EqualTo(1), "STOPPING=1 is not repeated");
    }

    [Test]
    public async Task AWatchdogForAnotherProcessIsIgnored()
    {
        using var notify = new NotifySocket();
        using var env = new EnvironmentScope().Set("NOTIFY_SOCKET", notify.Address).Set("WATCHDOG_USEC", "100000").Set("WATCHDOG_PID", "1");
        using var host = BuildHost();
        await host.StartAsync();
        Assert.That(notify.WaitFor("READY=1", Timeout), Is.Not.Null);
        Assert.That(notify.Count("WATCHDOG=1", TimeSpan.FromMilliseconds(300)), Is.Zero);
        Assert.That(Service(host).WatchdogPings, Is.Zero);
        await host.StopAsync();
    }

    [Test]
    public async Task NotificationsCanBeTurnedOff()
    {
        using var notify = new NotifySocket();
        using var env = new EnvironmentScope().Set("NOTIFY_SOCKET", notify.Address).Set("WATCHDOG_USEC", "100000").Set("WATCHDOG_PID", null);
        using var host = BuildHost(o =>
        {
            o.Systemd.Notify = false;
            o.Systemd.Watchdog = false;
        });
        await host.StartAsync();
        await host.StopAsync();
        Assert.That(notify.Count("READY=1", TimeSpan.FromMilliseconds(200)), Is.Zero);
        Assert.That(notify.Messages, Is.Empty);
    }
}
