using System.Net;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// An echo server on every loop, on 127.0.0.1 (port 0 with one loop, else the port in <see cref="Port"/>); connections
/// are tracked for the drain. Its StopAsync waits for the drain deadline when the probe says so.
/// </summary>
public sealed class EchoLoopService(HostedLoop loop, Probe probe) : ILoopService
{
    public void Start()
    {
        var listener = loop.Listen(new IPEndPoint(IPAddress.Loopback, loop.LoopCount == 1 ? 0 : probe.Port), OnAccept);
        probe.Ports[loop.Index] = ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    private void OnAccept(Listener listener, SocketConnection connection)
    {
        probe.Accepted.AddOrUpdate(loop.Index, 1, (_, n) => n + 1);
        var stream = connection.ToStream(loop.Loop);
        stream.OnData = static (s, data) => s.Write(data);
        loop.TrackConnection(stream);
        stream.Start();
    }

    public async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        probe.StopCalled = true;
        probe.StopEntered.TrySetResult();
        if (!probe.HoldStopUntilDeadline) return;
        try { await loop.Loop.DelayAsync(TimeSpan.FromMinutes(5), cancellationToken); }
        catch (OperationCanceledException)
        {
            probe.StopTokenCancelled = loop.Loop.IsOnLoopThread;
        }
    }
}
