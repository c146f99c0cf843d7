using System.Net;
using System.Text;

namespace LinuxEvent.Tests;

/// <summary>Async sockets over real TCP and socket pairs on both real models.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class AsyncSocketTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AcceptAndConnectAsyncOverLoopbackTcp()
    {
        using var loop = backend.Create();
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { Blocking = false };
        int clientFd = (int)client.Handle;
        int server = -1;
        string echoed = "";
        try
        {
            loop.Run(async () =>
            {
                var accept = loop.AcceptAsync(listener).AsTask();
                await loop.ConnectAsync(clientFd, ep);
                server = await accept;
                await loop.SendAllAsync(clientFd, Encoding.ASCII.GetBytes("over tcp"));
                var buf = new byte[32];
                int n = await loop.ReceiveAsync(server, buf);
                echoed = Encoding.ASCII.GetString(buf, 0, n);
            });
            Assert.That(echoed, Is.EqualTo("over tcp"));
        }
        finally
        {
            Posix.Close(listener);
            if (server >= 0) Posix.Close(server);
        }
    }

    [Test]
    public void ConnectAsyncToAClosedPortThrowsEconnrefused()
    {
        using var loop = backend.Create();
        int probe = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(probe)!;
        Posix.Close(probe);
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { Blocking = false };
        LinuxEventSocketException? error = null;
        loop.Run(async () =>
        {
            // Socket errors are SocketExceptions, so the usual .NET catch works; they also carry errno and call.
            try { await loop.ConnectAsync((int)client.Handle, ep); }
            catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
            {
                error = e as LinuxEventSocketException;
            }
        });
        Assert.That(error?.ErrnoName, Is.EqualTo("ECONNREFUSED"));
        Assert.That(error!.Call, Does.StartWith("connect("));
    }

    [Test]
    public void AwaitedReceiveAndSendAllocateNothingInSteadyState()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        long allocated = -1;
        try
        {
            loop.Run(async () =>
            {
                var ping = new byte[] { 1 };
                var bufA = new byte[16];
                var bufB = new byte[16];
                async Task RoundTrips(int count)
                {
                    for (int i = 0; i < count; i++)
                    {
                        var recv = loop.ReceiveAsync(b, bufB);       // pending: it has to wait for the data
                        await loop.SendAsync(a, ping);
                        await recv;
                        var back = loop.ReceiveAsync(a, bufA);
                        await loop.SendAsync(b, ping);
                        await back;
                    }
                }
                await RoundTrips(500);                                   // warm up pools, registrations, JIT tiers
                long before = GC.GetAllocatedBytesForCurrentThread();
                await RoundTrips(2000);
                // The only allocation allowed is RoundTrips' own async state machine, boxed once when it first suspends.
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        Assert.That(allocated, Is.LessThanOrEqualTo(256), "bytes allocated over 8,000 awaited operations (one state machine box at most)");
    }

    [Test]
    public void IoCallbacksSeeTheTimeAtWhichTheirEventArrived()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        long armed = 0, resumed = 0;
        try
        {
            // Another thread sends 30 ms after the receive starts waiting; the loop sleeps in the kernel meanwhile.
            using var sender = new Timer(_ => Posix.Write(a, "x"u8), null, Timeout.Infinite, Timeout.Infinite);
            loop.Run(async () =>
            {
                armed = loop.NowNanoseconds;
                sender.Change(30, Timeout.Infinite);
                await loop.ReceiveAsync(b, new byte[4]);
                resumed = loop.NowNanoseconds;
            });
        }
        finally { Posix.Close(a); Posix.Close(b); }
        // The runtime timer has millisecond granularity and may fire a little early; a stale clock would read ~0.
        Assert.That(resumed - armed, Is.GreaterThanOrEqualTo(20_000_000), "NowNanoseconds was re-read after the kernel wait");
    }

    [Test]
    public void TaskSchedulerRunsTasksOnTheLoopThread()
    {
        using var loop = backend.Create();
        int loopThread = Environment.CurrentManagedThreadId, ranOn = -1;
        loop.Run(async () =>
        {
            await Task.Factory.StartNew(() => ranOn = Environment.CurrentManagedThreadId, CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler);
        });
        Assert.That(ranOn, Is.EqualTo(loopThread));
        Assert.That(loop.TaskScheduler.MaximumConcurrencyLevel, Is.EqualTo(1));
    }
}
