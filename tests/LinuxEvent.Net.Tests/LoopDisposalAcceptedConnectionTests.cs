using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Net.Tests;

/// <summary>Loop disposal with connections the kernel really accepted: real backends only (the fakes accept nothing by themselves).</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class LoopDisposalAcceptedConnectionTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ConnectionsAcceptedButNotHandedOutAreClosedAndStreamsOfBothEndsClose()
    {
        var loop = backend.Create();
        var listener = Listener.Bind(loop, Net.AnyLoopbackPort, null, new ListenerOptions { ResolvePeerEndPoint = false });
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        LoopStream? client = null, server = null;
        loop.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            client = (await Connector.ConnectAsync(loop, ep)).ToStream(loop);
            server = (await accept).ToStream(loop);
        });
        // A second connection is accepted into the listener's queue and never handed out.
        int raw = Posix.StartTcpConnect(ep, out int errno);
        Assert.That(raw, Is.GreaterThanOrEqualTo(0), $"connect errno {errno}");
        try
        {
            loop.RunUntil(() => listener.AcceptedCount == 2);
            var pendingRead = server!.ReadAsync(new byte[16]).AsTask();
            var clientClosed = client!.Completion;

            loop.Dispose();

            Assert.That(pendingRead.IsCompletedSuccessfully && pendingRead.Result == 0, Is.True);
            Assert.That(server.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
            Assert.That(clientClosed.IsCompletedSuccessfully && clientClosed.Result == CloseReason.LoopDisposed, Is.True);
            // The queued connection was closed: the raw client sees its EOF (a bounded wait for the FIN, not a sleep).
            using (var probe = new Socket(new SafeSocketHandle(raw, ownsHandle: false)))
                Assert.That(probe.Poll(TimeSpan.FromSeconds(10), SelectMode.SelectRead), Is.True, "the peer of the queued connection was closed");
            Assert.That(Posix.TryRead(raw, new byte[1]), Is.Zero.Or.EqualTo(-104), "EOF (or ECONNRESET) from the closed queued connection");
            listener.Dispose();
        }
        finally { Posix.Close(raw); }
    }
}
