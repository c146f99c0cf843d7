using System.Net.Sockets;

namespace LinuxEvent.Tests;

public class PosixTests : FdCheckedTest
{
    [Test]
    public void UnixListenerAcceptsAndRefusesAnExistingPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"le-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        int listener = Posix.CreateUnixListener(new UnixDomainSocketEndPoint(path));
        try
        {
            int client = Posix.CreateStreamSocket(AddressFamily.Unix);
            Assert.That(Posix.TryConnect(client, new UnixDomainSocketEndPoint(path)), Is.Zero);
            int accepted = Posix.TryAccept(listener);
            Assert.That(accepted, Is.GreaterThanOrEqualTo(0));
            Posix.Close(accepted);
            Posix.Close(client);
            var ex = Assert.Throws<LinuxEventSocketException>(() => Posix.CreateUnixListener(new UnixDomainSocketEndPoint(path)));
            Assert.That(ex!.ErrnoName, Is.EqualTo("EADDRINUSE"));
        }
        finally
        {
            Posix.Close(listener);
            File.Delete(path);
        }
    }

    [Test]
    public void LoopbackTcpPairIsConnectedNonBlockingAndWithoutNagle()
    {
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            Assert.That(Posix.GetRemoteEndPoint(a), Is.EqualTo(Posix.GetLocalEndPoint(b)), "the two ends are one connection");
            Assert.That(Posix.GetSocketOption(a, 6, 1), Is.Not.Zero, "TCP_NODELAY on a");
            Assert.That(Posix.GetSocketOption(b, 6, 1), Is.Not.Zero, "TCP_NODELAY on b");
            Assert.That(Posix.TryReceive(a, new byte[4]), Is.EqualTo(-Posix.EAGAIN), "non-blocking: nothing there yet");
            Assert.That(Posix.TrySend(b, "tcp"u8), Is.EqualTo(3));
            var buf = new byte[4];
            Assert.That(Posix.TryReceive(a, buf), Is.EqualTo(3));
            Assert.That(buf[..3], Is.EqualTo("tcp"u8.ToArray()));
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void FileLimitRoundTrips()
    {
        var (soft, hard) = Posix.GetFileLimit();
        Assert.That(soft, Is.LessThanOrEqualTo(hard));
        Posix.SetFileLimit(soft, hard);
        Assert.That(Posix.GetFileLimit(), Is.EqualTo((soft, hard)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Posix.CreateStreamSocket(AddressFamily.AppleTalk));
    }

    [Test]
    public void TryCallsReturnNegativeErrnoInsteadOfThrowing()
    {
        var (r, w) = Posix.Pipe();
        Assert.That(Posix.TryRead(r, new byte[4]), Is.EqualTo(-Posix.EAGAIN), "empty non-blocking pipe");
        Posix.Close(r);
        Posix.Close(w);
        Assert.That(Posix.TryRead(r, new byte[4]), Is.EqualTo(-9), "EBADF");
        var ex = Assert.Throws<LinuxEventException>(() => Posix.Read(r, new byte[4]));
        Assert.That(ex!.Call, Is.EqualTo($"read(fd={r})"));
    }
}
