namespace LinuxEvent.Net;

/// <summary>How a <see cref="LoopStream"/> talks to its fd.</summary>
public enum StreamFdKind
{
    /// <summary>Probe once at construction: a socket uses recv/send, anything else read/write.</summary>
    Auto,
    /// <summary>A connected stream socket: recv(2)/send(2) with MSG_NOSIGNAL (a dead peer gives EPIPE, never SIGPIPE).</summary>
    Socket,
    /// <summary>A pipe, tty or character device: read(2)/write(2).</summary>
    File,
}
