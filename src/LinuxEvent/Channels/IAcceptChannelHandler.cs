namespace LinuxEvent;

/// <summary>What an <see cref="AcceptChannel"/> tells its owner, from the loop's dispatch only.</summary>
public interface IAcceptChannelHandler
{
    /// <summary>A connection was accepted: <paramref name="fd"/> (non-blocking, close-on-exec) belongs to the handler
    /// from this moment, even if it throws.</summary>
    void OnAccepted(int fd);

    /// <summary>accept failed with <paramref name="errno"/>. Return true to keep accepting now (a per-connection error,
    /// e.g. ECONNABORTED); false when the owner stopped accepting (it turned accepting off, to back off or for good).</summary>
    bool OnAcceptFailed(int errno);
}
