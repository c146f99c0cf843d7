namespace LinuxEvent.Async;

/// <summary>What an <see cref="AsyncOp"/> is doing (the reactor retries the matching syscall on readiness). File: a file
/// operation described by <see cref="AsyncOp.File"/> (it occupies no side of its fd).</summary>
internal enum AsyncKind : byte { None, Read, Write, Receive, Send, Accept, Connect, WaitReadable, WaitWritable, Delay,
    SendMessage, ReceiveMessage, File }
