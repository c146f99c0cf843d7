using System.Net;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent.Reactor;

/// <summary>The reactor driver's syscall seam served by a <see cref="FakeReactorKernel"/> (a fake loop's simulated kernel).</summary>
internal sealed class FakeKernelSyscalls(FakeReactorKernel kernel) : Syscalls
{
    private readonly FakeReactorKernel _kernel = kernel;

    public override int Read(int fd, Span<byte> buffer) => _kernel.Read(fd, buffer);
    public override int Write(int fd, ReadOnlySpan<byte> buffer) => _kernel.Write(fd, buffer);
    public override int Receive(int fd, Span<byte> buffer) => _kernel.Receive(fd, buffer);
    public override int Send(int fd, ReadOnlySpan<byte> buffer) => _kernel.Send(fd, buffer);
    public override int Accept(int fd) => _kernel.Accept(fd);
    public override int Connect(int fd, EndPoint remote) => _kernel.Connect(fd, remote);
    public override int GetSocketError(int fd) => _kernel.GetSocketError(fd);
    public override (bool Stream, bool Tcp) StreamSocketKind(int fd) => _kernel.GetStreamKind(fd);

    public override int PollNow(int fd, short events)
    {
        int r = _kernel.Poll(fd, out var readiness);
        if (r < 0) return r;
        int revents = 0;
        // Like poll(2): the requested events, plus errors and hang-ups always.
        if ((readiness & Readiness.Readable) != 0) revents |= Libc.POLLIN;
        if ((readiness & Readiness.Writable) != 0) revents |= Libc.POLLOUT;
        if ((readiness & Readiness.ReadHangUp) != 0) revents |= Libc.POLLRDHUP;
        revents &= events;
        if ((readiness & Readiness.Error) != 0) revents |= Libc.POLLERR;
        if ((readiness & Readiness.HangUp) != 0) revents |= Libc.POLLHUP;
        return revents;
    }
}
