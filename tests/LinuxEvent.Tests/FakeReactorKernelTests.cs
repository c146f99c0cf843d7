using System.Net;

namespace LinuxEvent.Tests;

/// <summary>
/// A simulated kernel behind a fake reactor (<see cref="FakeReadiness.Kernel"/>): the loop's own syscalls on ready fds
/// reach it (recv, send, accept4, connect and its SO_ERROR/poll checks), it hears every change of interest, and fds it
/// does not know still reach the real kernel.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeReactors))]
public class FakeReactorKernelTests(Backend backend) : FdCheckedTest
{
    /// <summary>One in-memory socket behind a placeholder fd (a dup of /dev/null: a real number, closable).</summary>
    private sealed class OneSocketKernel(int fd) : FakeReactorKernel
    {
        public readonly Queue<byte[]> Incoming = new();
        public readonly List<byte> Sent = new();
        public readonly List<(int Fd, WatchOptions Interest)> Interest = new();
        public bool Connected, KindAsked;

        protected internal override int Receive(int s, Span<byte> buffer)
        {
            if (s != fd) return base.Receive(s, buffer);
            if (Incoming.Count == 0) return -Errno.EAGAIN;
            var chunk = Incoming.Dequeue();
            chunk.CopyTo(buffer);
            return chunk.Length;
        }

        protected internal override int Send(int s, ReadOnlySpan<byte> buffer)
        {
            if (s != fd) return base.Send(s, buffer);
            int n = Math.Min(buffer.Length, 3);             // a small send buffer: short sends
            Sent.AddRange(buffer[..n].ToArray());
            return n;
        }

        protected internal override int Accept(int s) => s == fd ? -Errno.EMFILE : base.Accept(s);

        protected internal override int Connect(int s, EndPoint remote) => s == fd ? -Errno.EINPROGRESS : base.Connect(s, remote);

        protected internal override int GetSocketError(int s) => s == fd ? (Connected ? 0 : Errno.EINPROGRESS) : base.GetSocketError(s);

        protected internal override int Poll(int s, out Readiness readiness)
        {
            if (s != fd) return base.Poll(s, out readiness);
            readiness = Connected ? Readiness.Writable : Readiness.None;
            return 0;
        }

        protected internal override (bool Stream, bool Tcp) GetStreamKind(int s)
        {
            if (s != fd) return base.GetStreamKind(s);
            KindAsked = true;
            return (true, true);
        }

        protected internal override void InterestChanged(int s, WatchOptions interest) => Interest.Add((s, interest));
    }

    [Test]
    public void TheLoopsSyscallsOnASimulatedFdReachTheKernel()
    {
        using var loop = (ReactorLoop)backend.Create();
        int fd = Posix.OpenDevNull();
        var kernel = new OneSocketKernel(fd);
        loop.Fake!.Kernel = kernel;
        Assert.That(loop.Fake.Kernel, Is.SameAs(kernel));

        var buffer = new byte[16];
        var receive = loop.ReceiveAsync(fd, buffer).AsTask();
        Assert.That(receive.IsCompleted, Is.False, "EAGAIN from the kernel: parked");
        Assert.That(kernel.Interest, Has.Member((fd, WatchOptions.Read | WatchOptions.OneShot)));
        kernel.Incoming.Enqueue("hello"u8.ToArray());
        loop.Fake.Inject(fd, Readiness.Readable);
        loop.Fake.RunUntilIdle();
        Assert.That(receive.Result, Is.EqualTo(5));

        var send = loop.SendAsync(fd, "abcdef"u8.ToArray()).AsTask();
        loop.Fake.RunUntilIdle();
        Assert.That(send.Result, Is.EqualTo(3), "a short send, as the kernel took it");
        Assert.That(kernel.Sent, Is.EqualTo("abc"u8.ToArray()));

        var accept = loop.AcceptAsync(fd).AsTask();
        loop.Fake.RunUntilIdle();
        Assert.That(accept.Exception!.InnerException, Is.TypeOf<LinuxEventSocketException>().With.Property("Errno").EqualTo(Errno.EMFILE));
        Posix.Close(fd);
    }

    [Test]
    public void ARegisteredConnectAsksTheKernelForTheLevelAndTheSocketError()
    {
        using var loop = (ReactorLoop)backend.Create();
        int fd = Posix.OpenDevNull();
        var kernel = new OneSocketKernel(fd);
        loop.Fake!.Kernel = kernel;
        using var registration = loop.Register(fd);
        Assert.That(kernel.KindAsked, Is.True, "the short-transfer rules come from the kernel's answer");
        Assert.That(kernel.Interest.Last(), Is.EqualTo((fd, WatchOptions.Read | WatchOptions.Write | WatchOptions.EdgeTriggered)));

        var connect = registration.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80)).AsTask();
        loop.Fake.Inject(fd, Readiness.Writable);           // a stale edge: the kernel's level says not yet
        loop.Fake.RunUntilIdle();
        Assert.That(connect.IsCompleted, Is.False);
        kernel.Connected = true;
        loop.Fake.Inject(fd, Readiness.Writable);
        loop.Fake.RunUntilIdle();
        Assert.That(connect.IsCompletedSuccessfully, Is.True);
        registration.Dispose();
        Assert.That(kernel.Interest.Last(), Is.EqualTo((fd, WatchOptions.None)), "removal is reported too");
        Posix.Close(fd);
    }

    [Test]
    public void FdsTheKernelDoesNotKnowReachTheRealKernel()
    {
        using var loop = (ReactorLoop)backend.Create();
        int placeholder = Posix.OpenDevNull();
        loop.Fake!.Kernel = new OneSocketKernel(placeholder);
        var (a, b) = Posix.SocketPair();
        Posix.Write(b, "real"u8);
        var buffer = new byte[8];
        var receive = loop.ReceiveAsync(a, buffer).AsTask();
        Assert.That(receive.IsCompletedSuccessfully, Is.True, "the first attempt went to the real socket");
        Assert.That(receive.Result, Is.EqualTo(4));
        loop.Fake.Kernel = null;
        Posix.Close(a);
        Posix.Close(b);
        Posix.Close(placeholder);
    }
}
