using System.Net;

namespace LinuxEvent;

/// <summary>
/// A message a fake backend saw being sent (<see cref="FakeCompletions.GetSentMessage"/>,
/// <see cref="FakeReadiness.TakeSentDatagrams"/>): what a real kernel would have put on the wire.
/// </summary>
public sealed class FakeDatagram
{
    /// <summary>Creates the record.</summary>
    public FakeDatagram(byte[] data, EndPoint? remoteEndPoint, int[] fds)
    {
        Data = data;
        RemoteEndPoint = remoteEndPoint;
        Fds = fds;
    }

    /// <summary>The bytes sent (a copy).</summary>
    public byte[] Data { get; }

    /// <summary>The destination, or null for a send on a connected socket.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The fd numbers passed as SCM_RIGHTS (the sender's numbers; a fake takes no reference to them).</summary>
    public int[] Fds { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Data.Length} bytes to {RemoteEndPoint?.ToString() ?? "(connected peer)"}{(Fds.Length > 0 ? $", fds [{string.Join(", ", Fds)}]" : "")}";
}
