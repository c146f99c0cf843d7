using System.Net;
using LinuxEvent.Hosting.Systemd;

namespace LinuxEvent.Hosting.Tests;

/// <summary>The systemd protocol rules, without a host: socket activation variables, watchdog settings and rounds,
/// NOTIFY_SOCKET addresses.</summary>
public class SystemdProtocolTests : FdCheckedTest
{
    private static readonly int Me = Posix.GetProcessId();

    [Test]
    public void ActivationVariablesForThisProcessGiveTheFdCountAndNames()
    {
        var p = SocketActivation.Parse(Me.ToString(), "2", "web:admin", Me);
        Assert.That(p.Count, Is.EqualTo(2));
        Assert.That(p.Names, Is.EqualTo(new[] { "web", "admin" }));
        Assert.That(SocketActivation.Parse(Me.ToString(), "1", null, Me).Names, Is.EqualTo(new[] { "unknown" }), "no LISTEN_FDNAMES");
    }

    [Test]
    public void ActivationVariablesForAnotherProcessOrMissingAreIgnored()
    {
        Assert.That(SocketActivation.Parse(null, "1", "web", Me).Count, Is.Zero, "no LISTEN_PID");
        Assert.That(SocketActivation.Parse((Me + 1).ToString(), "1", "web", Me).Count, Is.Zero, "LISTEN_PID of another process (e.g. our parent)");
        Assert.That(SocketActivation.Parse(Me.ToString(), null, null, Me).Count, Is.Zero, "no LISTEN_FDS");
        Assert.That(SocketActivation.Parse(Me.ToString(), "0", null, Me).Count, Is.Zero);
    }

    [TestCase("x", "1", null)]
    [TestCase("-5", "1", null)]
    [TestCase("SELF", "many", null)]
    [TestCase("SELF", "-1", null)]
    [TestCase("SELF", "2", "only-one")]
    [TestCase("SELF", "1", "a:b")]
    public void MalformedActivationVariablesAreRefused(string pid, string fds, string? names)
    {
        Assert.Throws<InvalidOperationException>(() => SocketActivation.Parse(pid == "SELF" ? Me.ToString() : pid, fds, names, Me));
    }

    [Test]
    public void TakingTheActivatedSocketsAlwaysRemovesTheVariables()
    {
        using var env = new EnvironmentScope()
            .Set("LISTEN_PID", (Me + 1).ToString()).Set("LISTEN_FDS", "1").Set("LISTEN_FDNAMES", "web");
        Assert.That(SocketActivation.TakeFromEnvironment(), Is.Empty, "meant for another process");
        Assert.That(Environment.GetEnvironmentVariable("LISTEN_PID"), Is.Null);
        Assert.That(Environment.GetEnvironmentVariable("LISTEN_FDS"), Is.Null);
        Assert.That(Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Is.Null);
    }

    [Test]
    public void AnInheritedFdIsDescribedAsListeningOrNot()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var (r, w) = Posix.Pipe();
        try
        {
            var s = SocketActivation.Describe(listener, "web");
            Assert.That(s.IsListening, Is.True);
            Assert.That(s.LocalEndPoint, Is.EqualTo(Posix.GetLocalEndPoint(listener)));
            Assert.That(s.Name, Is.EqualTo("web"));
            var pipe = SocketActivation.Describe(r, "fifo");
            Assert.That(pipe.IsListening, Is.False);
            Assert.That(pipe.LocalEndPoint, Is.Null);
        }
        finally
        {
            Posix.Close(listener);
            Posix.Close(r);
            Posix.Close(w);
        }
    }

    [Test]
    public void TheWatchdogPeriodIsHalfOfWatchdogUsecForThisProcessOnly()
    {
        Assert.That(WatchdogRounds.Period("4000000", null, Me), Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(WatchdogRounds.Period("4000000", Me.ToString(), Me), Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(WatchdogRounds.Period("4000000", (Me + 1).ToString(), Me), Is.Null, "WATCHDOG_PID of another process");
        Assert.That(WatchdogRounds.Period(null, null, Me), Is.Null);
        Assert.That(WatchdogRounds.Period("0", null, Me), Is.Null);
        Assert.That(WatchdogRounds.Period("soon", null, Me), Is.Null);
    }

    [Test]
    public void AWatchdogRoundEndsOnlyWhenEveryLoopHasCheckedIn()
    {
        var rounds = new WatchdogRounds(3);
        Assert.That(rounds.CheckIn(0), Is.False);
        Assert.That(rounds.CheckIn(0), Is.False, "a loop checking in twice does not count twice");
        Assert.That(rounds.CheckIn(2), Is.False);
        Assert.That(rounds.CheckIn(1), Is.True, "the last loop completes the round: ping");
        Assert.That(rounds.Completed, Is.EqualTo(1));
        Assert.That(rounds.CheckIn(1), Is.False, "a new round starts");
        Assert.That(rounds.CheckIn(1), Is.False);
        Assert.That(rounds.CheckIn(0), Is.False);
        Assert.That(rounds.Completed, Is.EqualTo(1), "loop 2 has not checked in: no ping");
        Assert.That(rounds.CheckIn(2), Is.True);
    }

    [Test]
    public void NotifySocketAddressesArePathsOrAbstractNames()
    {
        Assert.That(SystemdNotifier.Create(null), Is.Null);
        Assert.That(SystemdNotifier.Create(""), Is.Null);
        Assert.That(SystemdNotifier.Create("vsock:2:1234"), Is.Null, "not AF_UNIX");
        Assert.That(SystemdNotifier.Create("relative/path"), Is.Null);
        using var notifySocket = new NotifySocket(abstractName: true);
        using var n = SystemdNotifier.Create(notifySocket.Address)!;
        Assert.That(n.Send("STATUS=hello", out _), Is.True);
        Assert.That(notifySocket.WaitFor("STATUS=hello", TimeSpan.FromSeconds(5)), Is.Not.Null);
    }

    [Test]
    public void ANotifySocketThatIsGoneFailsWithoutThrowing()
    {
        using var n = SystemdNotifier.Create($"@linuxevent-nobody-{Guid.NewGuid():N}")!;
        Assert.That(n.Send("READY=1", out var error), Is.False);
        Assert.That(error, Is.EqualTo(System.Net.Sockets.SocketError.ConnectionRefused));
    }
}
