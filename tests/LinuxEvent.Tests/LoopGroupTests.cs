using System.Net;

namespace LinuxEvent.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.Models))]
public class LoopGroupTests(LoopModel model) : FdCheckedTest
{
    [Test]
    public void LoopsShareAPortWithReusePortAndEachAcceptsOnItsOwnThread()
    {
        int port = 0;
        // Loop 0 binds first with SO_REUSEPORT on an ephemeral port; loop 1 joins the same port.
        using var portKnown = new ManualResetEventSlim();
        var listeners = new int[2];
        var acceptedBy = new int[2];
        var threadIds = new int[2];
        int total = 0;
        using var allAccepted = new ManualResetEventSlim();
        using var group = LoopGroup.Start(2, model, (loop, i) =>
        {
            threadIds[i] = Environment.CurrentManagedThreadId;
            if (i == 1) portKnown.Wait();
            int fd = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, port), reusePort: true);
            if (i == 0) { port = ((IPEndPoint)Posix.GetLocalEndPoint(fd)!).Port; portKnown.Set(); }
            listeners[i] = fd;
            loop.Spawn(async () =>
            {
                while (true)
                {
                    int c;
                    try { c = await loop.AcceptAsync(fd); }
                    catch (Exception) { return; }      // cancelled by teardown
                    Interlocked.Increment(ref acceptedBy[i]);
                    Posix.Close(c);
                    if (Interlocked.Increment(ref total) == 64) allAccepted.Set();
                }
            });
        }, teardown: (_, i) => Posix.Close(listeners[i]));
        Assert.That(group.Count, Is.EqualTo(2));
        Assert.That(threadIds[0], Is.Not.EqualTo(threadIds[1]));

        // Many short connections from distinct source ports: the kernel's SO_REUSEPORT hash spreads them.
        var clients = new List<int>();
        for (int k = 0; k < 64; k++) clients.Add(Posix.StartTcpConnect(new IPEndPoint(IPAddress.Loopback, port), out _));
        allAccepted.Wait(TimeSpan.FromSeconds(10));      // the loops run on their own threads; the test thread waits for them
        foreach (var c in clients) Posix.Close(c);
        Assert.That(acceptedBy[0] + acceptedBy[1], Is.EqualTo(64));
        Assert.That(acceptedBy[0], Is.GreaterThan(0), "loop 0 got a share");
        Assert.That(acceptedBy[1], Is.GreaterThan(0), "loop 1 got a share");
        group.Stop();
        Assert.That(group.Join(TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void ASetupFailureStopsTheGroupAndIsReported()
    {
        var ex = Assert.Throws<AggregateException>(() => LoopGroup.Start(2, model, (_, i) =>
        {
            if (i == 1) throw new InvalidDataException("setup of loop 1 failed");
        }));
        Assert.That(ex!.InnerExceptions.Single().Message, Is.EqualTo("setup of loop 1 failed"));
    }
}
