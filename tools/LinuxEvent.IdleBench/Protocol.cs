namespace LinuxEvent.IdleBench;

/// <summary>What one connection says to the server before it goes idle.</summary>
internal enum Protocol
{
    /// <summary>Connect only.</summary>
    None,
    /// <summary>Echo: 5 bytes out, the same 5 bytes back.</summary>
    Echo,
    /// <summary>RESP: PING, then +PONG.</summary>
    Redis,
    /// <summary>HTTP/1.1 keep-alive: one GET /plaintext and its whole response.</summary>
    Http,
    /// <summary>Line chat: read the name prompt, send an empty line, read the prompt again (no join: a join would be
    /// broadcast to every other client, N² messages).</summary>
    Chat,
}
