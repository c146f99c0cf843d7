using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Tests;

/// <summary>Socket errors surface as <see cref="SocketException"/>s with the right <see cref="SocketError"/>, on every model.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class SocketExceptionTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AReceiveOnAResetConnectionIsConnectionReset()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.LoopbackTcpPair();
        try
        {
            // SO_LINGER {on, 0}: close sends RST instead of FIN.
            var linger = new byte[8];
            BitConverter.TryWriteBytes(linger, 1);
            using (var s = new Socket(new SafeSocketHandle(b, ownsHandle: false))) s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Linger, new LingerOption(true, 0));
            Posix.Close(b);
            b = -1;
            SocketException? error = null;
            loop.Run(async () =>
            {
                try { await loop.ReceiveAsync(a, new byte[16]); }
                catch (SocketException e) { error = e; }
            });
            Assert.That(error, Is.InstanceOf<LinuxEventSocketException>());
            Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(((ILinuxEventError)error).Call, Does.StartWith("recv(fd="));
            Assert.That(error.Message, Does.Contain("ECONNRESET"));
        }
        finally
        {
            Posix.Close(a);
            if (b >= 0) Posix.Close(b);
        }
    }

    [Test]
    public void BindingATakenPortIsAddressAlreadyInUse()
    {
        int first = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0), reuseAddress: false);
        try
        {
            var ep = (IPEndPoint)Posix.GetLocalEndPoint(first)!;
            var ex = Assert.Throws<LinuxEventSocketException>(() => Posix.CreateTcpListener(ep, reuseAddress: false));
            Assert.That(ex!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
            Assert.That(ex.ErrnoName, Is.EqualTo("EADDRINUSE"));
        }
        finally { Posix.Close(first); }
    }

    [Test]
    public void NonSocketFailuresStayIOExceptions()
    {
        var (r, w) = Posix.Pipe();
        Posix.Close(w);
        Posix.Close(r);
        var ex = Assert.Throws<LinuxEventException>(() => Posix.Read(r, new byte[4]));
        Assert.That(ex, Is.InstanceOf<IOException>());
        Assert.That(ex!.ErrnoName, Is.EqualTo("EBADF"));
    }
}
