namespace LinuxEvent.Async;

/// <summary>What an <see cref="AsyncOp"/> is doing (the reactor retries the matching syscall on readiness).</summary>
internal enum AsyncKind : byte { None, Read, Write, Receive, Send, Accept, Connect, WaitReadable, WaitWritable, Delay,
    SendMessage, ReceiveMessage }
