using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// The hosted test app as a real child process: socket activation by a launcher that passes a listening fd the way
/// systemd does, sd_notify to a test-owned socket, SIGTERM handled by the Generic Host (not stolen by the loops), and
/// a dying loop turning into a failed exit.
/// </summary>
[TestFixture(LoopModel.Reactor)]
[TestFixture(LoopModel.Proactor)]
public class HostedProcessTests(LoopModel model) : HostingTest(model)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private string ModelArg => Model.ToString().ToLowerInvariant();

    [Test]
    public void ASocketActivatedAppServesOnEveryLoopAndStopsCleanlyOnSigterm()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)Posix.GetLocalEndPoint(listener)!).Port;
        using var notify = new NotifySocket();
        try
        {
            using var app = new HostedApp(["--model", ModelArg, "--loops", "2"], listener, new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = notify.Address,
                ["WATCHDOG_USEC"] = "2000000",
            });
            var ready = notify.WaitFor("READY=1", StartTimeout);
            Assert.That(ready, Is.Not.Null, $"READY=1 (app output: {app.Output})");

            // The inherited socket accepts on both loops; every client is echoed.
            for (int i = 0; i < 8; i++)
            {
                using var c = Connect(port);
                Assert.That(Echo(c, $"activated {i}"), Is.EqualTo($"activated {i}"));
            }
            Assert.That(notify.WaitFor("WATCHDOG=1", Timeout), Is.Not.Null, "the loops ping the watchdog");

            // Every loop registered SIGHUP (HostedLoop.RegisterSignal): it reaches both, and SIGTERM still reaches the
            // host's lifetime.
            app.Signal(1);
            WaitUntil(() => app.Output.Contains("SIGHUP on loop 0") && app.Output.Contains("SIGHUP on loop 1") || app.HasExited,
                () => $"SIGHUP on both loops (output: {app.Output})");
            Assert.That(app.HasExited, Is.False, $"SIGHUP did not end the app (output: {app.Output})");
            app.Signal(15);
            Assert.That(notify.WaitFor("STOPPING=1", Timeout), Is.Not.Null, "STOPPING=1 after SIGTERM");
            var exit = app.WaitForExit(Timeout);
            string output = app.Output;
            Assert.That(exit.Exited && exit.ExitCode == 0, Is.True, $"exit code 0 after SIGTERM, got {exit} (output: {output})");
            Assert.That(output, Does.Contain("app: started loops=2 activated=echo@3 LISTEN_PID=<unset> LISTEN_FDS=<unset> LISTEN_FDNAMES=<unset>"),
                "the activated socket was taken and the variables removed");
            Assert.That(output, Does.Contain("Socket activation: fd 3 'echo' 127.0.0.1:" + port + " (listening)"));
            Assert.That(output, Does.Contain("app: exiting with 0"));
            Assert.That(output, Does.Not.Contain("fail:").And.Not.Contain("crit:"));
        }
        finally
        {
            // The app closed only its duplicates: the launcher's socket still listens (connections would queue for
            // the next instance, as with systemd).
            Assert.That(Posix.GetSocketOption(listener, 1, 30 /* SO_ACCEPTCONN */), Is.EqualTo(1));
            Posix.Close(listener);
        }
    }

    [Test]
    public void ALoopThatDiesStopsTheAppWithAFailedExitCode()
    {
        using var notify = new NotifySocket();
        using var app = new HostedApp(["--model", ModelArg, "--loops", "2", "--kill-loop", "1"], null, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
        });
        Assert.That(notify.WaitFor("READY=1", StartTimeout), Is.Not.Null, $"READY=1 (app output: {app.Output})");
        Assert.That(notify.WaitFor("STOPPING=1", Timeout), Is.Not.Null, "the dead loop stopped the application");
        var exit = app.WaitForExit(Timeout);
        string output = app.Output;
        Assert.That(exit.Exited, Is.True, $"{exit} (output: {output})");
        Assert.That(exit.ExitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain($"Loop 1 ({(Model == LoopModel.Reactor ? "epoll" : "uring")}) died"));
        Assert.That(output, Does.Contain("app: exiting with 1"));
    }
}
