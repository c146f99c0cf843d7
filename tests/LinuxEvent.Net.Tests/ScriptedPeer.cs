namespace LinuxEvent.Net.Tests;

/// <summary>
/// The peer end of a socketpair, scripted the same way on every backend: on the real ones it is the other socket; on
/// the fake reactor its writes also inject readiness; on the fake proactor the loop's pending receive is completed with
/// the bytes, and its pending sends are completed in full (their bytes taken as what the peer read).
/// </summary>
public static class ScriptedPeer
{
    /// <summary>The peer sends <paramref name="data"/> to the stream on <paramref name="fd"/>.</summary>
    public static void Sends(Loop loop, int fd, int peer, ReadOnlySpan<byte> data)
    {
        switch (loop)
        {
            case ReactorLoop { Fake: { } readiness }:
                Posix.Write(peer, data);
                readiness.Inject(fd, Readiness.Readable);
                break;
            case ProactorLoop { Fake: { } completions }:
                completions.CompleteReceive(completions.Pending.Single(o => o.Kind == OperationKind.Receive && o.FileDescriptor == fd), data);
                break;
            default:
                Posix.Write(peer, data);
                break;
        }
    }

    /// <summary>The peer reads everything the stream on <paramref name="fd"/> sent so far, into <paramref name="into"/>
    /// when given (the peer socket is non-blocking: an empty one reads nothing).</summary>
    public static void Reads(Loop loop, int fd, int peer, MemoryStream? into = null)
    {
        if (loop is ProactorLoop { Fake: { } f })
        {
            foreach (var op in f.Pending.Where(o => o.Kind == OperationKind.Send && o.FileDescriptor == fd).ToList())
            {
                into?.Write(f.GetWriteBuffer(op).Span);
                f.Complete(op, f.GetBufferLength(op));
            }
        }
        if (Net.Drain(peer) is { } bytes) into?.Write(bytes);
    }
}
