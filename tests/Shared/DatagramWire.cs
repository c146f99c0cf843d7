using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Testing;

/// <summary>
/// A datagram socket under test (<see cref="Server"/>) and a peer (<see cref="Client"/>, a .NET socket on loopback or
/// an abstract Unix name). On real backends datagrams really travel; on the fakes the same datagrams are scripted
/// (the fake proactor completes the pending operation, the fake reactor serves its scripted syscalls), with the
/// peer's real address as the sender, so every contract test reads the same on all four backends.
/// </summary>
internal sealed class DatagramWire : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly Loop _loop;
    private readonly bool _ownsServer;
    public readonly int Server;
    public readonly EndPoint ServerEndPoint;
    public readonly Socket Client;
    public readonly EndPoint ClientEndPoint;

    /// <summary>A new server socket bound on loopback (or an abstract Unix name), owned by the wire.</summary>
    public DatagramWire(Loop loop, AddressFamily family = AddressFamily.InterNetwork)
        : this(loop, Posix.CreateBoundDatagramSocket(LocalEndPoint(family)), family, ownsServer: true) { }

    /// <summary>A wire around an existing bound server socket (not owned).</summary>
    public DatagramWire(Loop loop, int server, AddressFamily family, bool ownsServer = false)
    {
        _loop = loop;
        _ownsServer = ownsServer;
        Server = server;
        ServerEndPoint = Posix.GetLocalEndPoint(Server)!;
        Client = new Socket(family, SocketType.Dgram, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Udp) { ReceiveTimeout = 5000 };
        Client.Bind(LocalEndPoint(family));
        ClientEndPoint = Client.LocalEndPoint!;
        if (loop is ReactorLoop { Fake: { } fake }) fake.TakeSentDatagrams(Server);      // scripts the server's datagrams
    }

    /// <summary>Loopback with an ephemeral port, or a fresh abstract Unix name (.NET's form: a leading NUL).</summary>
    public static EndPoint LocalEndPoint(AddressFamily family) => family switch
    {
        AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Loopback, 0),
        AddressFamily.Unix => new UnixDomainSocketEndPoint($"\0linuxevent-dgram-{Environment.ProcessId}-{Guid.NewGuid():N}"),
        _ => new IPEndPoint(IPAddress.Loopback, 0),
    };

    /// <summary>Makes <paramref name="data"/> arrive at <see cref="Server"/> from <see cref="Client"/>. On the fake
    /// proactor the loop is run until a receive is pending on the server.</summary>
    public void Deliver(byte[] data)
    {
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
                _loop.RunUntil(() => fake.Pending.Any(o => o.Kind == OperationKind.ReceiveMessage && o.FileDescriptor == Server), Bound);
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
        if (_loop is ProactorLoop { Fake: { } })
        {
            var data = TakeSent();
            _loop.RunUntil(() => send.IsCompleted, Bound);
            return (send.Result, data);
        }
        _loop.RunUntil(() => send.IsCompleted, Bound);
        return (send.Result, TakeSent());
    }

    /// <summary>The next datagram the server sent to the client (the fake proactor's pending send is completed).</summary>
    public byte[] TakeSent()
    {
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
            {
                _loop.RunUntil(() => fake.Pending.Any(o => o.Kind == OperationKind.SendMessage && o.FileDescriptor == Server), Bound);
                var op = PendingOn(fake, OperationKind.SendMessage);
                var wire = fake.GetSentMessage(op);
                Assert.That(wire.RemoteEndPoint, Is.EqualTo(ClientEndPoint), "destination");
                fake.Complete(op, wire.Data.Length);
                return wire.Data;
            }
            case ReactorLoop { Fake: { } fake }:
            {
                var sent = new List<FakeDatagram>();
                _loop.RunUntil(() => { sent.AddRange(fake.TakeSentDatagrams(Server)); return sent.Count > 0; }, Bound);
                Assert.That(sent, Has.Count.EqualTo(1), "one datagram");
                Assert.That(sent[0].RemoteEndPoint, Is.EqualTo(ClientEndPoint), "destination");
                return sent[0].Data;
            }
            default:
            {
                _loop.RunUntil(() => Client.Available > 0 || Client.Poll(0, SelectMode.SelectRead), Bound);
                var buffer = new byte[70_000];
                int n = Client.Receive(buffer);
                return buffer[..n];
            }
        }
    }

    public Operation PendingOn(FakeCompletions fake, OperationKind kind)
        => fake.Pending.First(o => o.Kind == kind && o.FileDescriptor == Server);

    public void Dispose()
    {
        if (_ownsServer) Posix.Close(Server);
        Client.Dispose();
    }
}
