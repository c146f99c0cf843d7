using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.FaultClient;

/// <summary>
/// One TCP connection driven by two threads: a writer that keeps up to <c>depth</c> requests outstanding and a reader
/// that checks every reply byte, in order, against the request it answers.
/// </summary>
internal sealed class ClientConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly Protocol _protocol;
    private readonly int _depth;
    private readonly bool _keepRequests;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentQueue<Request> _outstanding = new();
    private readonly CancellationTokenSource _ended = new();
    private readonly List<Request> _all = new();
    private Thread? _writer, _reader;
    private volatile bool _stopSending;

    private ClientConnection(int id, Socket socket, Protocol protocol, int depth, bool keepRequests)
    {
        Id = id;
        _socket = socket;
        _protocol = protocol;
        _depth = depth;
        _keepRequests = keepRequests;
        _slots = new SemaphoreSlim(depth, depth);
    }

    public int Id { get; }

    /// <summary>Requests whose sending began.</summary>
    public long Started;

    /// <summary>Requests fully sent.</summary>
    public long Sent;

    /// <summary>Replies fully received and checked.</summary>
    public long Answered;

    /// <summary>Request and reply bytes.</summary>
    public long BytesSent, BytesReceived;

    /// <summary>The first failure (a wrong byte, an unexpected close, a timeout), or null.</summary>
    public string? Error { get; private set; }

    /// <summary>How the reader ended: "eof", "reset" or null while running.</summary>
    public string? End { get; private set; }

    /// <summary>Every request (only with keepRequests).</summary>
    public IReadOnlyList<Request> Requests => _all;

    public static ClientConnection Connect(int id, EndPoint server, Protocol protocol, int depth, bool keepRequests, TimeSpan timeout)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            socket.ConnectAsync(server, cts.Token).AsTask().GetAwaiter().GetResult();
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            return new ClientConnection(id, socket, protocol, depth, keepRequests);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start()
    {
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = $"writer {Id}" };
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"reader {Id}" };
        _reader.Start();
        _writer.Start();
    }

    /// <summary>Stops sending; with <paramref name="halfClose"/> the writer then waits for every reply and shuts down
    /// its side, so the server's close ends the reader.</summary>
    public void StopSending(bool halfClose)
    {
        _halfClose = halfClose;
        _stopSending = true;
    }

    private volatile bool _halfClose;

    /// <summary>Waits for both threads; false if they did not end in time.</summary>
    public bool Join(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        bool ok = _writer!.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        ok &= _reader!.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        return ok;
    }

    private void Fail(string message)
    {
        lock (_all) Error ??= $"connection {Id}: {message}";
        _ended.Cancel();
    }

    private void WriteLoop()
    {
        try
        {
            while (!_stopSending)
            {
                if (!_slots.Wait(200, _ended.Token)) continue;
                if (_stopSending) { _slots.Release(); break; }
                var request = _protocol.Next();
                if (_keepRequests) lock (_all) _all.Add(request);
                request.SendStartedAt = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref Started);
                _outstanding.Enqueue(request);      // before sending: the reply may arrive before Send returns
                for (int off = 0; off < request.Bytes.Length;)
                    off += _socket.Send(request.Bytes, off, request.Bytes.Length - off, SocketFlags.None);
                Volatile.Write(ref request.SentAt, Stopwatch.GetTimestamp());
                Interlocked.Increment(ref Sent);
                Interlocked.Add(ref BytesSent, request.Bytes.Length);
            }
            if (!_halfClose) return;
            // Every outstanding reply, then end our side: the server answers EOF by closing.
            for (int i = 0; i < _depth; i++) _slots.Wait(_ended.Token);
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (OperationCanceledException) { }
        catch (SocketException ex)
        {
            // After the server stopped (graceful mode) a send may meet the closed connection; the reader reports
            // how the connection ended, and the check of answered requests decides.
            if (!CloseIsExpected) Fail($"send: {ex.SocketErrorCode} ({ex.Message})");
        }
        catch (ObjectDisposedException) { }
    }

    /// <summary>In graceful mode a closed or reset connection is how the server ends; not an error by itself.</summary>
    public bool CloseIsExpected { get; set; }

    private void ReadLoop()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = _socket.Receive(buffer);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset && CloseIsExpected)
                {
                    End = "reset";
                    break;
                }
                if (n == 0)
                {
                    End = "eof";
                    if (!_outstanding.IsEmpty && !CloseIsExpected)
                        Fail($"the server closed the connection with {_outstanding.Count} replies outstanding (request {PeekIndex()} first)");
                    else if (!CloseIsExpected && !_halfClose)
                        Fail("the server closed the connection");
                    break;
                }
                Interlocked.Add(ref BytesReceived, n);
                var data = buffer.AsSpan(0, n);
                while (!data.IsEmpty)
                {
                    if (!_outstanding.TryPeek(out var request))
                    {
                        Fail($"{data.Length} bytes arrived with no request outstanding");
                        return;
                    }
                    int used;
                    try
                    {
                        used = request.Reply.Feed(data);
                    }
                    catch (ReplyMismatchException ex)
                    {
                        Fail($"reply to request {request.Index}: {ex.Message}");
                        return;
                    }
                    data = data[used..];
                    if (!request.Reply.Done) continue;
                    _outstanding.TryDequeue(out _);
                    request.AnsweredAt = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref Answered);
                    _slots.Release();
                }
            }
        }
        catch (SocketException ex)
        {
            Fail(ex.SocketErrorCode != SocketError.TimedOut ? $"receive: {ex.SocketErrorCode} ({ex.Message})"
                : _outstanding.IsEmpty ? "every reply came, but the server did not close the connection after our half-close within the timeout"
                : $"no reply within the timeout ({_outstanding.Count} outstanding, request {PeekIndex()} first)");
        }
        catch (ObjectDisposedException) { }
        finally
        {
            _ended.Cancel();
        }
    }

    private string PeekIndex() => _outstanding.TryPeek(out var r) ? r.Index.ToString() : "-";

    public void Dispose()
    {
        _ended.Cancel();
        _socket.Dispose();
    }
}
