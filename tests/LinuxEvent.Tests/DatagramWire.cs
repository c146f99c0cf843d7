using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Tests;

/// <summary>
/// A datagram socket under test (<see cref="Server"/>) and a peer (<see cref="Client"/>, a .NET socket on loopback or
/// an abstract Unix name). On real backends datagrams really travel; on the fakes the same datagrams are scripted
/// (the fake proactor completes the pending operation, the fake reactor serves its scripted syscalls), with the
/// peer's real address as the sender, so every contract test reads the same on all four backends.
/// </summary>
internal sealed class DatagramWire : IDisposable
{
    private readonly Loop _loop;
    public readonly int Server;
    public readonly EndPoint ServerEndPoint;
    public readonly Socket Client;
    public readonly EndPoint ClientEndPoint;

    public DatagramWire(Loop loop, AddressFamily family = AddressFamily.InterNetwork)
    {
        _loop = loop;
        EndPoint Local() => family switch
        {
            AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Loopback, 0),
            AddressFamily.Unix => new UnixDomainSocketEndPoint($"\0linuxevent-dgram-{Environment.ProcessId}-{Guid.NewGuid():N}"),
            _ => new IPEndPoint(IPAddress.Loopback, 0),
        };
        Server = Posix.CreateBoundDatagramSocket(Local());
        ServerEndPoint = Posix.GetLocalEndPoint(Server)!;
        Client = new Socket(family, SocketType.Dgram, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Udp) { ReceiveTimeout = 5000 };
        Client.Bind(Local());
        ClientEndPoint = Client.LocalEndPoint!;
        if (loop is ReactorLoop { Fake: { } fake }) fake.TakeSentDatagrams(Server);      // scripts the server's datagrams
    }

    public bool IsFake => _loop.BackendName == "fake";

    /// <summary>Makes <paramref name="data"/> arrive at <see cref="Server"/> from <see cref="Client"/>. On the fake
    /// proactor a receive must be pending on the server.</summary>
    public void Deliver(byte[] data)
    {
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
                fake.CompleteReceiveFrom(PendingOn(fake, OperationKind.ReceiveMessage), data, ClientEndPoint);
                break;
            case ReactorLoop { Fake: { } fake }:
                fake.DeliverDatagram(Server, data, ClientEndPoint);
                break;
            default:
                Client.SendTo(data, ServerEndPoint);
                break;
        }
    }

    /// <summary>Runs a send started on <see cref="Server"/> to completion and returns its result and what the client
    /// got (checking on the fakes that it was addressed to the client).</summary>
    public (int Result, byte[] Data) Sent(ValueTask<int> send)
    {
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
            {
                var op = PendingOn(fake, OperationKind.SendMessage);
                var wire = fake.GetSentMessage(op);
                Assert.That(wire.RemoteEndPoint, Is.EqualTo(ClientEndPoint), "destination");
                fake.Complete(op, wire.Data.Length);
                _loop.RunUntil(() => send.IsCompleted, TimeSpan.FromSeconds(10));
                return (send.Result, wire.Data);
            }
            case ReactorLoop { Fake: { } fake }:
            {
                _loop.RunUntil(() => send.IsCompleted, TimeSpan.FromSeconds(10));
                var wire = fake.TakeSentDatagrams(Server).Single();
                Assert.That(wire.RemoteEndPoint, Is.EqualTo(ClientEndPoint), "destination");
                return (send.Result, wire.Data);
            }
            default:
            {
                _loop.RunUntil(() => send.IsCompleted, TimeSpan.FromSeconds(10));
                var buffer = new byte[70_000];
                int n = Client.Receive(buffer);
                return (send.Result, buffer[..n]);
            }
        }
    }

    public Operation PendingOn(FakeCompletions fake, OperationKind kind)
        => fake.Pending.First(o => o.Kind == kind && o.FileDescriptor == Server);

    public void Dispose()
    {
        Posix.Close(Server);
        Client.Dispose();
    }
}
