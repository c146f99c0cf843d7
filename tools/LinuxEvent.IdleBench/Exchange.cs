using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.IdleBench;

/// <summary>The one request/response a client does before it goes idle, per <see cref="Protocol"/>.</summary>
internal static class Exchange
{
    private static readonly byte[] s_echo = "idle\n"u8.ToArray();
    private static readonly byte[] s_ping = "PING\r\n"u8.ToArray();
    private static readonly byte[] s_get = "GET /plaintext HTTP/1.1\r\nHost: idle\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_prompt = "What is your name?\r\n"u8.ToArray();
    private static readonly byte[] s_headEnd = "\r\n\r\n"u8.ToArray();

    public static async Task RunAsync(Socket s, Protocol protocol, CancellationToken ct)
    {
        var buffer = new byte[1024];
        int length = 0;
        switch (protocol)
        {
            case Protocol.None:
                return;
            case Protocol.Echo:
                await s.SendAsync(s_echo, SocketFlags.None, ct);
                await ReceiveUntilAsync(s, buffer, length, ct, b => b.Length >= s_echo.Length ? b.Length : -1);
                return;
            case Protocol.Redis:
                await s.SendAsync(s_ping, SocketFlags.None, ct);
                await ReceiveUntilAsync(s, buffer, length, ct, b => b.IndexOf("+PONG\r\n"u8) >= 0 ? b.Length : -1);
                return;
            case Protocol.Http:
                await s.SendAsync(s_get, SocketFlags.None, ct);
                await ReceiveUntilAsync(s, buffer, length, ct, HttpResponseComplete);
                return;
            case Protocol.Chat:
                // The server greets first; an empty line is not a valid name, so it asks again: one receive and one
                // reply on each side, without joining the room (a join would be broadcast to every other client).
                length = await ReceiveUntilAsync(s, buffer, length, ct, b => Count(b, s_prompt) >= 1 ? b.Length : -1);
                await s.SendAsync("\n"u8.ToArray(), SocketFlags.None, ct);
                await ReceiveUntilAsync(s, buffer, length, ct, b => Count(b, s_prompt) >= 2 ? b.Length : -1);
                return;
        }
    }

    private delegate int Done(ReadOnlySpan<byte> received);

    /// <summary>Receives until <paramref name="done"/> returns a length (not -1); returns the bytes held.</summary>
    private static async Task<int> ReceiveUntilAsync(Socket s, byte[] buffer, int length, CancellationToken ct, Done done)
    {
        while (done(buffer.AsSpan(0, length)) < 0)
        {
            if (length == buffer.Length) throw new IOException($"the reply exceeds {buffer.Length} bytes: {Encoding.ASCII.GetString(buffer)}");
            int n = await s.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, ct);
            if (n == 0) throw new IOException($"the server closed the connection after {length} bytes");
            length += n;
        }
        return length;
    }

    private static int HttpResponseComplete(ReadOnlySpan<byte> b)
    {
        int end = b.IndexOf(s_headEnd);
        if (end < 0) return -1;
        var head = Encoding.ASCII.GetString(b.Slice(0, end));
        int body = 0;
        foreach (var line in head.Split("\r\n"))
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) body = int.Parse(line.AsSpan(15).Trim());
        int total = end + 4 + body;
        return b.Length >= total ? total : -1;
    }

    private static int Count(ReadOnlySpan<byte> b, ReadOnlySpan<byte> what)
    {
        int n = 0;
        for (int i; (i = b.IndexOf(what)) >= 0; b = b.Slice(i + what.Length)) n++;
        return n;
    }
}
