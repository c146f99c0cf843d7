using System.Net;
using LinuxEvent.Datagrams;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>
/// Scripted datagrams for a fake reactor: once a test scripts an fd (<see cref="FakeReadiness.DeliverDatagram"/> and
/// its siblings), that fd's sendmsg/recvmsg no longer reach the kernel. They go through the reactor driver's replaceable
/// <see cref="Syscalls"/>, which this installs in front of whatever was there: a receive takes the next scripted
/// datagram (EAGAIN once there is none), a send is recorded (EAGAIN while blocked, the scripted errno while failing). Both read and write the msghdr the
/// driver built, exactly as the kernel would (<see cref="FakeMessageKernel"/>), so the code that interprets it is the
/// production code. Fds the test handed over and nobody received are closed when the loop is disposed.
/// </summary>
internal sealed unsafe class FakeDatagramScript : LoopComponent
{
    private readonly Dictionary<int, ScriptedFd> _fds = new();

    private sealed class ScriptedFd
    {
        public readonly Queue<(byte[] Data, EndPoint? From, int[] Fds)> Inbound = new();
        public readonly List<FakeDatagram> Sent = new();
        public bool SendBlocked;
        public int SendErrno;
    }

    public FakeDatagramScript(ReactorLoop loop, Syscalls inner) : base(loop)
    {
        Syscalls = new Scripted(this, inner);
        AttachToLoop();
    }

    /// <summary>The syscalls to install in the driver.</summary>
    public Syscalls Syscalls { get; }

    private ScriptedFd Of(int fd)
    {
        if (!_fds.TryGetValue(fd, out var s)) _fds[fd] = s = new ScriptedFd();
        return s;
    }

    public void Deliver(int fd, ReadOnlySpan<byte> data, EndPoint? from, ReadOnlySpan<int> fds)
        => Of(fd).Inbound.Enqueue((data.ToArray(), from, fds.ToArray()));

    public FakeDatagram[] TakeSent(int fd)
    {
        var s = Of(fd);
        var sent = s.Sent.ToArray();
        s.Sent.Clear();
        return sent;
    }

    public void SetSendBlocked(int fd, bool blocked) => Of(fd).SendBlocked = blocked;

    public void FailSends(int fd, int errno) => Of(fd).SendErrno = errno;

    protected internal override void OnLoopDisposing()
    {
        foreach (var s in _fds.Values)
        {
            foreach (var (_, _, fds) in s.Inbound)
                foreach (int fd in fds) Libc.Close(fd);
            s.Inbound.Clear();
        }
        _fds.Clear();
    }

    private int Receive(ScriptedFd s, MsgHdr* message)
    {
        if (!s.Inbound.TryDequeue(out var d)) return -Errno.EAGAIN;
        return FakeMessageKernel.Receive(message, d.Data, d.From, d.Fds);
    }

    private int Send(ScriptedFd s, MsgHdr* message)
    {
        if (s.SendBlocked) return -Errno.EAGAIN;
        if (s.SendErrno != 0) return -s.SendErrno;
        var sent = FakeMessageKernel.Sent(message);
        s.Sent.Add(sent);
        return sent.Data.Length;
    }

    private sealed class Scripted(FakeDatagramScript owner, Syscalls inner) : Syscalls
    {
        public override int Read(int fd, Span<byte> buffer) => inner.Read(fd, buffer);
        public override int Write(int fd, ReadOnlySpan<byte> buffer) => inner.Write(fd, buffer);
        public override int Receive(int fd, Span<byte> buffer) => inner.Receive(fd, buffer);
        public override int Send(int fd, ReadOnlySpan<byte> buffer) => inner.Send(fd, buffer);
        public override int Accept(int fd) => inner.Accept(fd);

        public override int ReceiveMessage(int fd, MsgHdr* message, int flags)
            => owner._fds.TryGetValue(fd, out var s) ? owner.Receive(s, message) : inner.ReceiveMessage(fd, message, flags);

        public override int SendMessage(int fd, MsgHdr* message, int flags)
            => owner._fds.TryGetValue(fd, out var s) ? owner.Send(s, message) : inner.SendMessage(fd, message, flags);
    }
}
