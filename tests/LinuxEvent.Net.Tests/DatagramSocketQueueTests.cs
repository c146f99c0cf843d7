using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// The send queue and the receive budget of DatagramSocket, where only a fake can hold a send back deterministically:
/// the fake reactor's scripted sends get EAGAIN while blocked, the fake proactor's stay pending until completed.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class DatagramSocketQueueTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly IPEndPoint To = new(IPAddress.Loopback, 9);

    /// <summary>Holds sends back (reactor: EAGAIN), or lets the held ones go (reactor: unblock; proactor: complete each).</summary>
    private static void HoldSends(Loop loop, DatagramSocket socket, bool hold)
    {
        if (loop is ReactorLoop { Fake: { } fake }) fake.SetSendBlocked(socket.Fd, hold);
    }

    /// <summary>The datagrams that reach the wire once sends are released, in order.</summary>
    private static List<string> Drain(Loop loop, DatagramSocket socket, Func<bool>? alsoUntil = null)
    {
        var wire = new List<string>();
        HoldSends(loop, socket, false);
        loop.RunUntil(() =>
        {
            switch (loop)
            {
                case ProactorLoop { Fake: { } fake }:
                    foreach (var op in fake.Pending.Where(o => o.Kind == OperationKind.SendMessage).ToList())
                    {
                        var d = fake.GetSentMessage(op);
                        wire.Add(Encoding.ASCII.GetString(d.Data));
                        fake.Complete(op, d.Data.Length);
                    }
                    break;
                case ReactorLoop { Fake: { } fake }:
                    wire.AddRange(fake.TakeSentDatagrams(socket.Fd).Select(d => Encoding.ASCII.GetString(d.Data)));
                    break;
            }
            return socket.QueuedDatagrams == 0 && (alsoUntil?.Invoke() ?? true);
        }, Bound);
        return wire;
    }

    [Test]
    public void SendToDropsWhenTheQueueIsFullAndKeepsTheOrderOfWhatItQueued()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { SendQueueBytes = 10 });
        if (loop is ReactorLoop { Fake: { } f }) f.TakeSentDatagrams(socket.Fd);            // script its sends
        HoldSends(loop, socket, true);
        var accepted = new[] { "aaaa", "bbbb", "cc", "dd", "e" }.Select(s => socket.SendTo(Encoding.ASCII.GetBytes(s), To)).ToArray();
        // 4 + 4 + 2 = 10 bytes fill the queue (the first is the one in flight); "dd" and "e" do not fit.
        Assert.That(accepted, Is.EqualTo(new[] { true, true, true, false, false }));
        Assert.That(socket.DroppedDatagrams, Is.EqualTo(2));
        Assert.That(socket.QueuedBytes, Is.EqualTo(10));
        Assert.That(Drain(loop, socket), Is.EqualTo(new[] { "aaaa", "bbbb", "cc" }));
        Assert.That(socket.SentDatagrams, Is.EqualTo(3));
        Assert.That(socket.QueuedBytes, Is.Zero);

        // The arena is a ring: after draining, a datagram that wraps around the end still goes out whole.
        HoldSends(loop, socket, true);
        Assert.That(socket.SendTo("123456"u8, To), Is.True);
        Assert.That(socket.SendTo("7890"u8, To), Is.True);
        Assert.That(Drain(loop, socket), Is.EqualTo(new[] { "123456", "7890" }));
    }

    [Test]
    public void SendToAsyncWaitsForRoomInsteadOfDropping()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort, new DatagramSocketOptions { SendQueueBytes = 8 });
        if (loop is ReactorLoop { Fake: { } f }) f.TakeSentDatagrams(socket.Fd);
        HoldSends(loop, socket, true);
        Assert.That(socket.SendToAsync(Encoding.ASCII.GetBytes("first..."), To).IsCompletedSuccessfully, Is.True, "room: queued at once");
        var second = socket.SendToAsync(Encoding.ASCII.GetBytes("second"), To);
        Assert.That(second.IsCompleted, Is.False, "no room: it waits");
        Assert.That(() => socket.SendToAsync(Encoding.ASCII.GetBytes("x"), To), Throws.InvalidOperationException.With.Message.Contains("already waiting"));
        Assert.That(socket.SendTo("y"u8, To), Is.False, "a waiting SendToAsync goes first");
        Assert.That(Drain(loop, socket, () => second.IsCompleted), Is.EqualTo(new[] { "first...", "second" }));
        Assert.That(second.IsCompletedSuccessfully, Is.True);
        Assert.That(socket.DroppedDatagrams, Is.EqualTo(1));
    }

    [Test]
    public void ASendTheKernelRefusesIsDroppedReportedAndTheNextOneGoesOut()
    {
        using var loop = backend.Create();
        using var socket = DatagramSocket.Bind(loop, Net.AnyLoopbackPort);
        var errors = new List<Exception>();
        socket.OnError = (_, ex) => errors.Add(ex);
        switch (loop)
        {
            case ReactorLoop { Fake: { } reactor }:
                reactor.FailSends(socket.Fd, Errno.EHOSTUNREACH);
                socket.SendTo("refused"u8, To);
                reactor.FailSends(socket.Fd, 0);
                socket.SendTo("next"u8, To);
                break;
            case ProactorLoop { Fake: { } proactor }:
                socket.SendTo("refused"u8, To);
                socket.SendTo("next"u8, To);
                proactor.Fail(proactor.Pending.Single(o => o.Kind == OperationKind.SendMessage), Errno.EHOSTUNREACH);
                break;
        }
        Assert.That(Drain(loop, socket), Is.EqualTo(new[] { "next" }));
        Assert.That(socket.SendErrors, Is.EqualTo(1));
        Assert.That(socket.SentDatagrams, Is.EqualTo(1));
        Assert.That(errors.Single(), Is.InstanceOf<LinuxEventSocketException>().With.Property("ErrnoName").EqualTo("EHOSTUNREACH"));
        Assert.That(errors[0].Message, Does.Contain($"sendmsg(fd={socket.Fd}, to 127.0.0.1:9)"));
    }
}
