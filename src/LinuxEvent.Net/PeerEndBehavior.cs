namespace LinuxEvent.Net;

/// <summary>What a <see cref="LoopStream"/> does when the peer ends its side (EOF / FIN).</summary>
public enum PeerEndBehavior
{
    /// <summary>Stop reading and close once everything queued so far has been written (the default): replies written
    /// in <see cref="LoopStream.OnEnd"/> still go out. Closes with <see cref="CloseReason.PeerClosed"/>.</summary>
    CloseAfterDrain,
    /// <summary>Keep the stream half-open: writing continues until the owner closes it (or calls
    /// <see cref="LoopStream.ShutdownWrite"/>, after which the stream closes by itself).</summary>
    HalfOpen,
    /// <summary>Close at once, dropping queued writes.</summary>
    CloseImmediately,
}
