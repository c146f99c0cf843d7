using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Tests;

/// <summary>
/// SCM_RIGHTS over Unix sockets with SendMessageAsync/ReceiveMessageAsync, on all four backends. On the fakes the
/// "kernel" is scripted: the sent message's fds are read back from the msghdr the loop built, and the receiver gets
/// close-on-exec duplicates of them, as the kernel would install.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class DatagramFdPassingTests(Backend backend) : FdCheckedTest
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Sends <paramref name="payload"/> with <paramref name="fds"/> from <paramref name="a"/> and receives it on
    /// <paramref name="b"/> with room for <paramref name="room"/> fds. Returns the result and the received fds.</summary>
    private static (ReceiveMessageResult Result, int[] Fds) Transfer(Loop loop, int a, int b, string payload, int[] fds, int room)
    {
        var data = Encoding.ASCII.GetBytes(payload);
        var send = loop.SendMessageAsync(a, data, null, fds);
        int[] onTheWire = fds;
        switch (loop)
        {
            case ProactorLoop { Fake: { } fake }:
            {
                var op = fake.Pending.Single(o => o.Kind == OperationKind.SendMessage && o.FileDescriptor == a);
                var sent = fake.GetSentMessage(op);
                Assert.That(Encoding.ASCII.GetString(sent.Data), Is.EqualTo(payload));
                Assert.That(sent.RemoteEndPoint, Is.Null, "a connected socket: no destination");
                onTheWire = sent.Fds;
                fake.Complete(op, sent.Data.Length);
                break;
            }
            case ReactorLoop { Fake: { } fake }:
                loop.RunUntil(() => send.IsCompleted, Bound);
                var recorded = fake.TakeSentDatagrams(a).Single();
                Assert.That(Encoding.ASCII.GetString(recorded.Data), Is.EqualTo(payload));
                onTheWire = recorded.Fds;
                break;
        }
        loop.RunUntil(() => send.IsCompleted, Bound);
        Assert.That(send.Result, Is.EqualTo(data.Length));
        Assert.That(onTheWire, Is.EqualTo(fds), "the fds in the message");

        var into = new int[room];
        var buffer = new byte[64];
        var receive = loop.ReceiveMessageAsync(b, buffer, into);
        var installed = onTheWire.Select(fd => Libc.Fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0)).ToArray();
        switch (loop)
        {
            case ProactorLoop { Fake: { } fake }:
                fake.CompleteReceiveMessage(fake.Pending.Single(o => o.Kind == OperationKind.ReceiveMessage), data, null, installed);
                break;
            case ReactorLoop { Fake: { } fake }:
                fake.DeliverDatagram(b, data, null, installed);
                break;
            default:
                foreach (int fd in installed) Posix.Close(fd);      // the real kernel installs its own
                break;
        }
        loop.RunUntil(() => receive.IsCompleted, Bound);
        var r = receive.Result;
        Assert.That(Encoding.ASCII.GetString(buffer, 0, r.ReceivedBytes), Is.EqualTo(payload));
        return (r, into[..r.FdCount]);
    }

    private static (int A, int B) Pair(Loop loop, bool datagram)
    {
        var (a, b) = datagram ? Posix.DatagramSocketPair() : Posix.SocketPair();
        if (loop is ReactorLoop { Fake: { } fake }) fake.TakeSentDatagrams(a);       // script the sending end
        return (a, b);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void APassedFdArrivesCloseOnExecAndReachesTheSameFile(bool datagram)
    {
        using var loop = backend.Create();
        var (a, b) = Pair(loop, datagram);
        var (r, w) = Posix.Pipe();
        try
        {
            var (result, fds) = Transfer(loop, a, b, "here is a pipe", new[] { w }, room: 4);
            Assert.That(result.FdCount, Is.EqualTo(1));
            Assert.That(result.Flags, Is.EqualTo(ReceiveMessageFlags.None));
            Assert.That(result.RemoteEndPoint, Is.Null, "socket pair ends are unnamed");
            int received = fds[0];
            try
            {
                Assert.That(received, Is.Not.EqualTo(w), "a new fd in this process");
                Assert.That(Libc.Fcntl(received, Libc.F_GETFD, 0) & Libc.FD_CLOEXEC, Is.EqualTo(Libc.FD_CLOEXEC), "MSG_CMSG_CLOEXEC");
                Posix.Write(received, "through the passed fd"u8);
                var buffer = new byte[64];
                int n = Posix.Read(r, buffer);
                Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("through the passed fd"));
            }
            finally { Posix.Close(received); }
        }
        finally
        {
            Posix.Close(r); Posix.Close(w); Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void FdsBeyondTheRoomAreClosedForTheCallerAndFlagged()
    {
        using var loop = backend.Create();
        var (a, b) = Pair(loop, datagram: true);
        var pipes = Enumerable.Range(0, 3).Select(_ => Posix.Pipe()).ToArray();
        try
        {
            var (result, fds) = Transfer(loop, a, b, "three", pipes.Select(p => p.WriteFd).ToArray(), room: 1);
            Assert.That(result.FdCount, Is.EqualTo(1));
            Assert.That(result.IsControlTruncated, Is.True);
            Assert.That(result.Flags, Is.EqualTo(ReceiveMessageFlags.ControlTruncated));
            Posix.Close(fds[0]);
            // The fd-leak check of this fixture proves the two that did not fit were closed.
        }
        finally
        {
            foreach (var (r, w) in pipes) { Posix.Close(r); Posix.Close(w); }
            Posix.Close(a); Posix.Close(b);
        }
    }

    [Test]
    public void WithNoRoomEveryFdIsClosedAndTheBytesStillArrive()
    {
        using var loop = backend.Create();
        var (a, b) = Pair(loop, datagram: true);
        var (r, w) = Posix.Pipe();
        try
        {
            var (result, fds) = Transfer(loop, a, b, "no room", new[] { w, w }, room: 0);
            Assert.That(fds, Is.Empty);
            Assert.That(result.ReceivedBytes, Is.EqualTo(7));
            Assert.That(result.IsControlTruncated, Is.True);
        }
        finally
        {
            Posix.Close(r); Posix.Close(w); Posix.Close(a); Posix.Close(b);
        }
    }
}
