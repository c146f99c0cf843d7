using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// A connected socket pair whose <see cref="Local"/> end the loop under test reads. <see cref="Deliver"/> makes bytes
/// arrive there the way the loop's backend receives them: written by the peer on a real backend; written and an edge
/// injected on the fake reactor; the pending receive completed on the fake proactor (which moves no bytes).
/// </summary>
internal sealed class Wire : IDisposable
{
    private readonly Loop _loop;
    public readonly int Local, Remote;

    public Wire(Loop loop)
    {
        _loop = loop;
        (Local, Remote) = Posix.SocketPair();
    }

    public void Deliver(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
                var op = fake.Pending.First(o => o.Kind == OperationKind.Receive && o.FileDescriptor == Local);
                fake.CompleteReceive(op, bytes);
                break;
            case ReactorLoop { Fake: { } fakeReactor }:
                Posix.Write(Remote, bytes);
                fakeReactor.Inject(Local, Readiness.Readable);
                break;
            default:
                Posix.Write(Remote, bytes);
                break;
        }
    }

    public string ReadRemote()
    {
        var buf = new byte[4096];
        int n = Posix.TryRead(Remote, buf);
        return n > 0 ? Encoding.ASCII.GetString(buf, 0, n) : "";
    }

    public void Dispose()
    {
        Posix.Close(Local);
        Posix.Close(Remote);
    }
}
