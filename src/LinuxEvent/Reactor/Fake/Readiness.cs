namespace LinuxEvent;

/// <summary>Readiness a test injects into the Fake reactor backend.</summary>
[Flags]
public enum Readiness
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>EPOLLIN.</summary>
    Readable = 1,
    /// <summary>EPOLLOUT.</summary>
    Writable = 2,
    /// <summary>EPOLLERR.</summary>
    Error = 4,
    /// <summary>EPOLLHUP.</summary>
    HangUp = 8,
    /// <summary>EPOLLRDHUP: the peer shut down its writing side (a FIN arrived); reads return what is queued, then 0.</summary>
    ReadHangUp = 16,
}
