namespace LinuxEvent;

/// <summary>What an <see cref="Operation"/> does.</summary>
public enum OperationKind
{
    /// <summary>read(2)/pread(2) on an fd.</summary>
    Read,
    /// <summary>write(2)/pwrite(2) on an fd.</summary>
    Write,
    /// <summary>recv(2) on a socket.</summary>
    Receive,
    /// <summary>send(2) on a socket (MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE).</summary>
    Send,
    /// <summary>accept4(2); the result is the new fd (non-blocking, close-on-exec), owned by the caller.</summary>
    Accept,
    /// <summary>connect(2).</summary>
    Connect,
    /// <summary>shutdown(2).</summary>
    Shutdown,
    /// <summary>close(2).</summary>
    Close,
    /// <summary>splice(2) between a pipe and another fd.</summary>
    Splice,
    /// <summary>A timeout; expiry completes successfully with result 0.</summary>
    Timeout,
    /// <summary>A no-op round trip through the loop (IORING_OP_NOP).</summary>
    Nop,
    /// <summary>Multishot accept: one item per connection, then one final settlement.</summary>
    AcceptMultishot,
    /// <summary>Multishot receive into a provided-buffer ring: one item per chunk, then one final settlement.</summary>
    ReceiveMultishot,
    /// <summary>sendmsg(2): a datagram (or stream bytes) with an optional destination and SCM_RIGHTS fds.</summary>
    SendMessage,
    /// <summary>recvmsg(2): a datagram (or stream bytes) with the sender's address and SCM_RIGHTS fds.</summary>
    ReceiveMessage,
    /// <summary>preadv(2): scatter read at an offset (IORING_OP_READV).</summary>
    ReadV,
    /// <summary>pwritev(2): gather write at an offset (IORING_OP_WRITEV).</summary>
    WriteV,
    /// <summary>fsync(2) (IORING_OP_FSYNC).</summary>
    Fsync,
    /// <summary>fdatasync(2) (IORING_OP_FSYNC with IORING_FSYNC_DATASYNC).</summary>
    Fdatasync,
    /// <summary>openat(2); the result is the new fd (close-on-exec), owned by the caller (IORING_OP_OPENAT).</summary>
    OpenAt,
    /// <summary>statx(2) (IORING_OP_STATX); the status is in <see cref="Operation.FileStatus"/>.</summary>
    Statx,
    /// <summary>fallocate(2) (IORING_OP_FALLOCATE).</summary>
    Fallocate,
}
