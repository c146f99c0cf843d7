using System.Net;

namespace LinuxEvent.Net.Tests;

/// <summary>Host strings: bracketed address literals of both families are literals, not names to resolve.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ConnectorHostTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ABracketedIpv4LiteralConnectsWithoutNameResolution()
    {
        using var loop = backend.Create();
        var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, 0), (_, c) => Posix.Close(c.Fd));
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        SocketConnection? conn = null;
        loop.Run(async () => conn = await Connector.ConnectAsync(loop, "[127.0.0.1]", port));
        Assert.That(((IPEndPoint)conn!.Value.RemoteEndPoint!).Address, Is.EqualTo(IPAddress.Loopback));
        Posix.Close(conn.Value.Fd);
        listener.Dispose();
        Net.Settle(loop);
    }

    [Test]
    public void BracketsAroundANameAreRefused()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<ArgumentException>(() => Connector.Connect(loop, "[localhost]", 80, _ => { }));
        Assert.That(ex!.Message, Does.Contain("not an IP address literal"));
    }
}
