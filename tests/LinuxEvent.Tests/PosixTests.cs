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
            var ex = Assert.Throws<LinuxEventException>(() => Posix.CreateUnixListener(new UnixDomainSocketEndPoint(path)));
            Assert.That(ex!.ErrnoName, Is.EqualTo("EADDRINUSE"));
        }
        finally
        {
            Posix.Close(listener);
            File.Delete(path);
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
