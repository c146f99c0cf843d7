using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Hosting.Systemd;

/// <summary>
/// sd_notify(3): state lines (<c>READY=1</c>, <c>STOPPING=1</c>, <c>WATCHDOG=1</c>, <c>STATUS=...</c>) sent as one
/// datagram to the <c>AF_UNIX</c> socket named by <c>NOTIFY_SOCKET</c>: a path, or an abstract name written with a
/// leading <c>@</c>. Thread-safe: loops send watchdog pings from their own threads. Never blocks: a full receive
/// queue drops the message (reported as false), since a stalled manager must not stall a loop.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endpoint;

    private SystemdNotifier(string address)
    {
        // '@' marks the abstract namespace in systemd's notation; the kernel's is a leading NUL byte.
        _endpoint = new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address);
        Address = address;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
    }

    /// <summary>The socket as NOTIFY_SOCKET named it.</summary>
    public string Address { get; }

    /// <summary>A notifier for <paramref name="address"/> (NOTIFY_SOCKET's value), or null when there is none or it is
    /// not an AF_UNIX address (e.g. systemd's <c>vsock:</c> form, not supported here).</summary>
    public static SystemdNotifier? Create(string? address)
    {
        if (string.IsNullOrEmpty(address) || (address[0] != '/' && address[0] != '@') || address.Length < 2) return null;
        return new SystemdNotifier(address);
    }

    /// <summary>Sends <paramref name="state"/> (newline-separated assignments) as one datagram. False if it could not
    /// be sent (the error is in <paramref name="error"/>).</summary>
    public bool Send(string state, out SocketError error)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endpoint);
            error = SocketError.Success;
            return true;
        }
        catch (SocketException ex)
        {
            error = ex.SocketErrorCode;
            return false;
        }
        catch (ObjectDisposedException)
        {
            error = SocketError.Shutdown;
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
