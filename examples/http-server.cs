#!/usr/bin/env dotnet
// http-server: a minimal HTTP/1.1 server on LinuxEvent for wrk-style benchmarks; one LoopStream per connection, the
// same code on the reactor (epoll) and the proactor (io_uring) model.
//
//   dotnet run -c Release examples/http-server.cs -- --model reactor|proactor --port 8080
//   curl -i http://127.0.0.1:8080/json;  wrk -t1 -c50 -d10s http://127.0.0.1:8080/plaintext
//
// Routes: GET|HEAD / and /plaintext -> "Hello, World!" (text/plain); /json -> {"message":"Hello, World!"}; anything
// else 404, other methods 405. Every response carries Server, Date (refreshed once a second by a loop timer),
// Content-Type and Content-Length. Connections are kept alive (HTTP/1.1 default; HTTP/1.0 with
// "Connection: keep-alive") until the client closes or sends "Connection: close".
// Pipelining: every complete request in the receive buffer is answered, and the responses go out in one send.
// A malformed request gets 400 (oversized head 431, Transfer-Encoding 501, oversized body 413) and its connection is
// closed after the response; other connections are unaffected. SIGINT/SIGTERM stop the server cleanly (exit 0).
//
// Hot path without allocations: requests are parsed as byte spans where they were received (LoopStream.OnInput hands
// over everything not consumed yet), and responses are assembled from pre-encoded byte blocks in one buffer shared by
// every connection, then written with one LoopStream.Write per batch.
//
// Memory: an idle keep-alive connection costs its LoopStream and a small HttpConnection. Receives go through the
// loop's shared buffer (reactor) or shared provided-buffer ring (proactor); a partial request head is all a stream
// keeps between reads, and its output queue holds an array only while bytes wait for the kernel.
#:project ../src/LinuxEvent.Net/LinuxEvent.Net.csproj
#:include Shared/ExampleServer.cs
#:property PublishAot=false
#:property TieredPGO=true
#:property ServerGarbageCollector=false
#:property ConcurrentGarbageCollection=false

using System.Net;
using System.Text;
using LinuxEvent;
using LinuxEvent.Net;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return ExampleServer.Run("http-server", args, defaultPort: 8080, static (loop, endpoint) => new HttpServer(loop).RunAsync(endpoint));

/// <summary>One connection: its stream and where it is in the request stream.</summary>
internal sealed class HttpConnection(LoopStream stream)
{
    public readonly LoopStream Stream = stream;
    public bool Close;              // close after sending what is pending
    public long BodyToSkip;         // request body bytes still to discard (they are skipped as they arrive)
}

/// <summary>Responses being assembled: one buffer for the whole server (a batch is written out before the next begins).</summary>
internal sealed class ResponseBuffer(int size)
{
    public byte[] Bytes = new byte[size];
    public int Length;

    public ReadOnlySpan<byte> Span => Bytes.AsSpan(0, Length);

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (Bytes.Length - Length < bytes.Length) Array.Resize(ref Bytes, Math.Max(Bytes.Length * 2, Length + bytes.Length));
        bytes.CopyTo(Bytes.AsSpan(Length));
        Length += bytes.Length;
    }
}

/// <summary>What the parser found at the front of the receive buffer.</summary>
internal enum ParseResult { Request, Incomplete, BadRequest, HeadTooLarge, BodyTooLarge, NotImplemented, VersionNotSupported }

/// <summary>A parsed request head: only what routing and connection management need.</summary>
internal ref struct RequestHead
{
    public ReadOnlySpan<byte> Method;
    public ReadOnlySpan<byte> Path;      // target without the query string
    public bool KeepAlive;
    public bool Http10;
    public long ContentLength;
    public int HeadLength;               // request line + headers + empty line, in bytes
}

internal sealed class HttpServer
{
    private const int MaxHeadLength = 16 * 1024;
    private const long MaxBodyLength = 1024 * 1024;
    private const int FlushThreshold = 64 * 1024;

    // One options object for every connection (a stream keeps a reference). Past the high watermark a connection stops
    // reading until its queue drains: a pipelining client cannot make the server buffer without bound.
    private static readonly LoopStreamOptions s_streamOptions = new() { FdKind = StreamFdKind.Socket };

    private readonly Loop _loop;
    private readonly HashSet<HttpConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _date = new byte[29];        // "Sun, 06 Nov 1994 08:49:37 GMT", rewritten every second
    private readonly ResponseBuffer _out = new(FlushThreshold + MaxHeadLength);
    private TaskCompletionSource? _allClosed;
    // The stream callbacks, created once: every connection shares them (the connection rides in LoopStream.Data).
    private readonly StreamInputHandler _onInput;
    private readonly Action<LoopStream> _onDrain;
    private readonly Action<LoopStream, CloseReason> _onClose;

    private static readonly byte[] s_helloBody = "Hello, World!"u8.ToArray();
    private static readonly byte[] s_jsonBody = "{\"message\":\"Hello, World!\"}"u8.ToArray();
    private static readonly byte[] s_notFoundBody = "Not Found\n"u8.ToArray();

    public HttpServer(Loop loop)
    {
        _loop = loop;
        _onInput = (s, input) => HandleInput((HttpConnection)s.Data!, input);
        _onDrain = static s => s.ResumeRead();
        _onClose = (s, _) =>
        {
            _connections.Remove((HttpConnection)s.Data!);
            if (_connections.Count == 0) _allClosed?.TrySetResult();
        };
        UpdateDate();
    }

    // The two benchmark responses (HTTP/1.1, keep-alive) pre-assembled: a request costs one copy. Rebuilt with the Date.
    private byte[] _plaintextResponse = [], _jsonResponse = [];
    private readonly ResponseBuffer _scratch = new(256);

    private void UpdateDate()
    {
        DateTime.UtcNow.TryFormat(_date, out _, "r");
        _plaintextResponse = BuildResponse("text/plain"u8, s_helloBody);
        _jsonResponse = BuildResponse("application/json"u8, s_jsonBody);
    }

    private byte[] BuildResponse(ReadOnlySpan<byte> contentType, byte[] body)
    {
        var scratch = _scratch;
        scratch.Length = 0;
        WriteHead(scratch, "200 OK"u8, contentType, body.Length, keepAlive: true, http10: false, extra: default);
        scratch.Write(body);
        return scratch.Span.ToArray();
    }

    public async Task RunAsync(IPEndPoint endpoint)
    {
        // Registered for its whole life (Loop.Register): no per-accept re-arming on the reactor; closed by Dispose.
        var listener = _loop.Register(Posix.CreateTcpListener(endpoint, backlog: 1024), ownsFd: true);
        // SIGINT/SIGTERM end the accept loop; the subscriptions last as long as the loop (its Dispose cancels them).
        _loop.Signal(2, (_, _) => _stopping.Cancel());
        _loop.Signal(15, (_, _) => _stopping.Cancel());
        var clock = _loop.Every(TimeSpan.FromSeconds(1), this, static (_, s) => s.UpdateDate());
        Console.Error.WriteLine($"http-server: {_loop.Model.ToString().ToLowerInvariant()} ({_loop.BackendName}) listening on http://{endpoint}/");
        try
        {
            while (true)
            {
                int fd;
                try
                {
                    fd = await listener.AcceptAsync(_stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception ex) when (ex is ILinuxEventError)
                {
                    Console.Error.WriteLine($"http-server: accept: {ex.Message}");
                    try { await _loop.DelayAsync(TimeSpan.FromMilliseconds(10), _stopping.Token); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                Posix.SetTcpNoDelay(fd);
                var stream = new LoopStream(_loop, fd, s_streamOptions);
                var connection = new HttpConnection(stream);
                stream.Data = connection;
                stream.OnInput = _onInput;
                stream.OnDrain = _onDrain;
                stream.OnClose = _onClose;
                _connections.Add(connection);
                stream.Start();
            }
        }
        finally
        {
            clock.Cancel();
            listener.Dispose();     // first: connects are refused from here on, so the drain below misses nothing
        }
        // Graceful stop: answer what was received, then close every connection (bounded wait). Shutting the receive side
        // down lets each stream still read the requests the kernel already holds; then it sees end-of-stream and closes
        // once its responses are written (PeerEndBehavior.CloseAfterDrain).
        if (_connections.Count > 0)
        {
            _allClosed = new TaskCompletionSource();
            foreach (var c in _connections.ToArray())
            {
                try { Posix.Shutdown(c.Stream.Fd, System.Net.Sockets.SocketShutdown.Receive); }
                catch (Exception e) when (e is ILinuxEventError) { c.Stream.CloseAfterDrain(); }
            }
            await Task.WhenAny(_allClosed.Task, _loop.DelayAsync(TimeSpan.FromSeconds(2)).AsTask());
        }
        Console.Error.WriteLine("http-server: stopped");
    }

    /// <summary>
    /// Answers every complete request of <paramref name="input"/> (everything the stream has not consumed yet) and
    /// writes the responses with one Write per batch (per FlushThreshold bytes). Returns the bytes consumed: a partial
    /// request head stays in the stream until the rest arrives.
    /// </summary>
    private int HandleInput(HttpConnection c, ReadOnlySpan<byte> input)
    {
        int pos = 0;
        var stream = c.Stream;
        while (!c.Close)
        {
            if (c.BodyToSkip > 0)
            {
                int skip = (int)Math.Min(c.BodyToSkip, input.Length - pos);
                pos += skip;
                c.BodyToSkip -= skip;
                if (c.BodyToSkip > 0) break;
            }
            if (pos == input.Length) break;
            var result = Parse(input[pos..], out var head);
            if (result == ParseResult.Incomplete) break;
            if (result == ParseResult.Request)
            {
                pos += head.HeadLength;
                c.BodyToSkip = head.ContentLength;
                Respond(c, ref head);
            }
            else RespondError(c, result);
            if (_out.Length >= FlushThreshold && !Flush(stream)) break;
        }
        Flush(stream);
        if (c.Close)
        {
            stream.CloseAfterDrain();
            return input.Length;
        }
        return pos;
    }

    /// <summary>Writes the batch's responses. False when the stream is now write-blocked: reading pauses until its
    /// queue drains (OnDrain resumes it), so a client that pipelines without reading cannot grow the queue forever.</summary>
    private bool Flush(LoopStream stream)
    {
        if (_out.Length == 0) return !stream.IsWriteBlocked;
        bool open = stream.Write(_out.Span);
        _out.Length = 0;
        if (open) return true;
        if (!stream.IsClosed) stream.PauseRead();
        return false;
    }

    // ------------------------------------------------------------------ parsing

    /// <summary>Parses a request head (RFC 9112; a bare LF is accepted as a line end, as the RFC allows).</summary>
    private static ParseResult Parse(ReadOnlySpan<byte> buf, out RequestHead head)
    {
        head = default;
        int window = Math.Min(buf.Length, MaxHeadLength);
        int lineEnd = buf[..window].IndexOf((byte)'\n');
        if (lineEnd < 0) return buf.Length >= MaxHeadLength ? ParseResult.HeadTooLarge : ParseResult.Incomplete;
        var requestLine = TrimCr(buf[..lineEnd]);

        // request-line = method SP request-target SP HTTP-version
        int sp1 = requestLine.IndexOf((byte)' ');
        if (sp1 <= 0) return ParseResult.BadRequest;
        int sp2 = requestLine[(sp1 + 1)..].IndexOf((byte)' ');
        if (sp2 <= 0) return ParseResult.BadRequest;
        sp2 += sp1 + 1;
        head.Method = requestLine[..sp1];
        var target = requestLine[(sp1 + 1)..sp2];
        var version = requestLine[(sp2 + 1)..];
        if (!IsToken(head.Method) || target.ContainsAny((byte)' ', (byte)'\t', (byte)'\r')) return ParseResult.BadRequest;
        if (target[0] != (byte)'/' && !(target.Length == 1 && target[0] == (byte)'*')) return ParseResult.BadRequest;
        bool http11;
        if (version.SequenceEqual("HTTP/1.1"u8)) http11 = true;
        else if (version.SequenceEqual("HTTP/1.0"u8)) http11 = false;
        else return version.StartsWith("HTTP/"u8) && version.Length == 8 ? ParseResult.VersionNotSupported : ParseResult.BadRequest;
        int query = target.IndexOf((byte)'?');
        head.Path = query >= 0 ? target[..query] : target;

        bool keepAlive = http11, hasLength = false;
        int hosts = 0;
        long contentLength = 0;
        int pos = lineEnd + 1;
        while (true)
        {
            int nl = buf[pos..window].IndexOf((byte)'\n');
            if (nl < 0) return buf.Length >= MaxHeadLength ? ParseResult.HeadTooLarge : ParseResult.Incomplete;
            var line = TrimCr(buf.Slice(pos, nl));
            pos += nl + 1;
            if (line.IsEmpty) break;

            int colon = line.IndexOf((byte)':');
            if (colon <= 0) return ParseResult.BadRequest;
            var name = line[..colon];
            if (!IsToken(name)) return ParseResult.BadRequest;       // also rejects "Name :" and obsolete line folding
            var value = line[(colon + 1)..].Trim(" \t"u8);
            switch (name.Length)
            {
                case 4 when Ascii.EqualsIgnoreCase(name, "host"u8):
                    hosts++;
                    break;
                case 10 when Ascii.EqualsIgnoreCase(name, "connection"u8):
                    if (ContainsToken(value, "close"u8)) keepAlive = false;
                    else if (ContainsToken(value, "keep-alive"u8)) keepAlive = true;
                    break;
                case 14 when Ascii.EqualsIgnoreCase(name, "content-length"u8):
                    if (!TryParseLength(value, out long length) || (hasLength && length != contentLength)) return ParseResult.BadRequest;
                    hasLength = true;
                    contentLength = length;
                    break;
                case 17 when Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8):
                    return ParseResult.NotImplemented;                  // no chunked bodies: the framing would be lost
            }
        }
        if (http11 && hosts != 1) return ParseResult.BadRequest;       // RFC 9112 §3.2: exactly one Host in HTTP/1.1
        if (contentLength > MaxBodyLength) return ParseResult.BodyTooLarge;
        head.KeepAlive = keepAlive;
        head.Http10 = !http11;
        head.ContentLength = contentLength;
        head.HeadLength = pos;
        return ParseResult.Request;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    /// <summary>RFC 9110 token: visible ASCII except separators.</summary>
    private static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return false;
        foreach (byte b in s)
            if (b <= 0x20 || b >= 0x7f || "\"(),/:;<=>?@[\\]{}"u8.Contains(b)) return false;
        return true;
    }

    private static bool ContainsToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        foreach (var range in list.Split((byte)','))
            if (Ascii.EqualsIgnoreCase(list[range].Trim(" \t"u8), token)) return true;
        return false;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 18) return false;
        foreach (byte b in s)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            value = value * 10 + (b - '0');
        }
        return true;
    }

    // ------------------------------------------------------------------ responses

    private void Respond(HttpConnection c, ref RequestHead head)
    {
        bool get = head.Method.SequenceEqual("GET"u8);
        bool headOnly = !get && head.Method.SequenceEqual("HEAD"u8);
        ReadOnlySpan<byte> contentType;
        byte[] body;
        if (head.Path.SequenceEqual("/plaintext"u8) || head.Path.SequenceEqual("/"u8)) { contentType = "text/plain"u8; body = s_helloBody; }
        else if (head.Path.SequenceEqual("/json"u8)) { contentType = "application/json"u8; body = s_jsonBody; }
        else
        {
            WriteHead(_out, "404 Not Found"u8, "text/plain"u8, s_notFoundBody.Length, head.KeepAlive, head.Http10, extra: default);
            if (!headOnly) _out.Write(s_notFoundBody);
            if (!head.KeepAlive) c.Close = true;
            return;
        }
        if (get && head.KeepAlive && !head.Http10)
        {
            _out.Write(body == s_helloBody ? _plaintextResponse : _jsonResponse);
            return;
        }
        if (!get && !headOnly)
        {
            WriteHead(_out, "405 Method Not Allowed"u8, "text/plain"u8, 0, head.KeepAlive, head.Http10, extra: "Allow: GET, HEAD\r\n"u8);
            if (!head.KeepAlive) c.Close = true;
            return;
        }
        WriteHead(_out, "200 OK"u8, contentType, body.Length, head.KeepAlive, head.Http10, extra: default);
        if (!headOnly) _out.Write(body);
        if (!head.KeepAlive) c.Close = true;
    }

    private void RespondError(HttpConnection c, ParseResult error)
    {
        var status = error switch
        {
            ParseResult.HeadTooLarge => "431 Request Header Fields Too Large"u8,
            ParseResult.BodyTooLarge => "413 Content Too Large"u8,
            ParseResult.NotImplemented => "501 Not Implemented"u8,
            ParseResult.VersionNotSupported => "505 HTTP Version Not Supported"u8,
            _ => "400 Bad Request"u8,
        };
        // The rest of the stream cannot be framed reliably after a bad request: answer, then close.
        WriteHead(_out, status, "text/plain"u8, status.Length + 1, keepAlive: false, http10: false, extra: default);
        _out.Write(status);
        _out.Write("\n"u8);
        c.Close = true;
    }

    private void WriteHead(ResponseBuffer o, ReadOnlySpan<byte> status, ReadOnlySpan<byte> contentType, int contentLength, bool keepAlive, bool http10, ReadOnlySpan<byte> extra)
    {
        o.Write("HTTP/1.1 "u8);
        o.Write(status);
        o.Write("\r\nServer: LinuxEvent\r\nDate: "u8);
        o.Write(_date);
        o.Write("\r\nContent-Type: "u8);
        o.Write(contentType);
        o.Write("\r\nContent-Length: "u8);
        Span<byte> digits = stackalloc byte[11];
        contentLength.TryFormat(digits, out int n);
        o.Write(digits[..n]);
        o.Write(!keepAlive ? "\r\nConnection: close\r\n"u8 : http10 ? "\r\nConnection: keep-alive\r\n"u8 : "\r\n"u8);
        o.Write(extra);
        o.Write("\r\n"u8);
    }
}
