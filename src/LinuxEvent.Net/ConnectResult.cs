using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>The outcome of a <see cref="ConnectAttempt"/>: a connection or an error, never both.</summary>
public readonly struct ConnectResult
{
    internal ConnectResult(SocketConnection connection) { Connection = connection; Error = null; }
    internal ConnectResult(LinuxEventSocketException error) { Connection = default; Error = error; }

    /// <summary>True when connected; <see cref="Connection"/> is valid and its fd is owned by the callback.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The connected socket (when <see cref="Succeeded"/>).</summary>
    public SocketConnection Connection { get; }

    /// <summary>Why the attempt failed: the errno of the last candidate (ECONNREFUSED, ENOENT for a missing Unix
    /// socket, ETIMEDOUT for the timeout, EHOSTUNREACH for a name that did not resolve...), with every candidate's
    /// outcome in the message.</summary>
    public LinuxEventSocketException? Error { get; }
}
