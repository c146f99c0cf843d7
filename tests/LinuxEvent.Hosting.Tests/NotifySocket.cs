using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// A test-owned NOTIFY_SOCKET: an AF_UNIX datagram socket (abstract "@name" or a path) that records every sd_notify
/// message sent to it.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _path;
    private readonly List<string> _messages = new();

    public NotifySocket(bool abstractName = true)
    {
        string name = $"linuxevent-test-{Guid.NewGuid():N}";
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        if (abstractName)
        {
            Address = "@" + name;
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        }
        else
        {
            _path = Path.Combine(Path.GetTempPath(), name + ".sock");
            Address = _path;
            _socket.Bind(new UnixDomainSocketEndPoint(_path));
        }
    }

    /// <summary>The value for NOTIFY_SOCKET.</summary>
    public string Address { get; }

    /// <summary>Every message received so far, in order.</summary>
    public IReadOnlyList<string> Messages => _messages;

    /// <summary>Receives until a message has a line equal to <paramref name="line"/> (returns it) or the timeout passes
    /// (returns null). Messages received on the way are recorded.</summary>
    public string? WaitFor(string line, TimeSpan timeout)
    {
        foreach (var m in _messages) if (HasLine(m, line)) return m;
        var deadline = DateTime.UtcNow + timeout;
        while (Receive(deadline - DateTime.UtcNow) is { } m)
            if (HasLine(m, line)) return m;
        return null;
    }

    /// <summary>Receives messages for <paramref name="duration"/> and returns how many had <paramref name="line"/>.</summary>
    public int Count(string line, TimeSpan duration)
    {
        int n = 0;
        var deadline = DateTime.UtcNow + duration;
        while (Receive(deadline - DateTime.UtcNow) is { } m)
            if (HasLine(m, line)) n++;
        return n;
    }

    /// <summary>Drops whatever is queued now (recorded, not matched).</summary>
    public void Skip()
    {
        while (_socket.Available > 0) Receive(TimeSpan.FromMilliseconds(1));
    }

    public static bool HasLine(string message, string line) => message.Split('\n').Contains(line);

    private string? Receive(TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero) return null;
        _socket.ReceiveTimeout = Math.Max(1, (int)wait.TotalMilliseconds);
        var buffer = new byte[4096];
        try
        {
            int n = _socket.Receive(buffer);
            var m = Encoding.UTF8.GetString(buffer, 0, n);
            _messages.Add(m);
            return m;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (_path is not null) File.Delete(_path);
    }
}
