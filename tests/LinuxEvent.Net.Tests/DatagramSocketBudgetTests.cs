using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// A burst of datagrams that are all ready at once (a reactor reads them without waiting) is delivered a few per
/// iteration, so the loop's other work still runs in between: checked on epoll with real datagrams and on the fake
/// reactor with scripted ones. (On the proactor each receive is its own completion, one per iteration already.)
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Reactors))]
public class DatagramSocketBudgetTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AFloodIsDeliveredAFewDatagramsPerIterationSoTimersStillRun()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { MaxDatagramsPerIteration = 2 });
        using var wire = new DatagramWire(loop, socket.Fd, AddressFamily.InterNetwork);
        var order = new List<string>();
        socket.StartReceiving((_, d, _) =>
        {
            if (order.Count == 0) loop.After(TimeSpan.Zero, _ => order.Add("timer"));   // due at the next iteration
            order.Add(Encoding.ASCII.GetString(d));
        });
        loop.RunOnce(TimeSpan.Zero);
        for (int i = 0; i < 6; i++) wire.Deliver(Encoding.ASCII.GetBytes($"d{i}"));
        loop.RunUntil(() => order.Count == 7, TimeSpan.FromSeconds(10));
        Assert.That(order.IndexOf("timer"), Is.LessThan(6), $"the timer ran before the burst was over: {string.Join(",", order)}");
        Assert.That(order.Where(o => o != "timer"), Is.EqualTo(Enumerable.Range(0, 6).Select(i => $"d{i}")));
        Assert.That(socket.ReceivedDatagrams, Is.EqualTo(6));
    }
}
