using System.Net;

namespace LinuxEvent.Tests;

/// <summary>
/// Steady-state allocation of the datagram path on the real backends (the fakes' scripting copies by design): a UDP
/// echo round trip (four awaited operations, a peer seen before) and a message round trip allocate nothing.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class DatagramAllocationTests(Backend backend) : FdCheckedTest
{
    private const int Warmup = 200, Measured = 2000;

    [Test]
    public void AUdpEchoRoundTripAllocatesNothing()
    {
        using var loop = backend.Create();
        int server = Posix.CreateBoundDatagramSocket(new IPEndPoint(IPAddress.Loopback, 0));
        int client = Posix.CreateBoundDatagramSocket(new IPEndPoint(IPAddress.Loopback, 0));
        try
        {
            var serverEndPoint = Posix.GetLocalEndPoint(server)!;
            long allocated = -1;
            loop.Run(async () =>
            {
                var payload = new byte[32];
                var serverBuffer = new byte[1500];
                var clientBuffer = new byte[1500];
                long before = 0;
                for (int i = 0; i < Warmup + Measured; i++)
                {
                    if (i == Warmup) before = GC.GetAllocatedBytesForCurrentThread();
                    await loop.SendToAsync(client, payload, serverEndPoint);
                    var request = await loop.ReceiveFromAsync(server, serverBuffer);
                    await loop.SendToAsync(server, serverBuffer.AsMemory(0, request.ReceivedBytes), request.RemoteEndPoint);
                    var reply = await loop.ReceiveFromAsync(client, clientBuffer);
                    if (reply.ReceivedBytes != payload.Length) throw new InvalidOperationException("short echo");
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.That(allocated, Is.Zero, $"{allocated} bytes over {Measured} round trips");
        }
        finally
        {
            Posix.Close(server);
            Posix.Close(client);
        }
    }

    [Test]
    public void AMessageRoundTripAllocatesNothing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.DatagramSocketPair();
        try
        {
            long allocated = -1;
            loop.Run(async () =>
            {
                var payload = new byte[16];
                var buffer = new byte[64];
                var fds = new int[4];
                long before = 0;
                for (int i = 0; i < Warmup + Measured; i++)
                {
                    if (i == Warmup) before = GC.GetAllocatedBytesForCurrentThread();
                    await loop.SendMessageAsync(a, payload, null, ReadOnlyMemory<int>.Empty);
                    var r = await loop.ReceiveMessageAsync(b, buffer, fds);
                    if (r.ReceivedBytes != payload.Length || r.FdCount != 0) throw new InvalidOperationException("bad message");
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.That(allocated, Is.Zero, $"{allocated} bytes over {Measured} round trips");
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }
}
