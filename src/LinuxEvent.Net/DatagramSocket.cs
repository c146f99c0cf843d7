using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxEvent.Net;

/// <summary>
/// A datagram socket on a loop of either model: UDP over IPv4 or IPv6, or a Unix datagram socket. It receives through
/// a handler loop (<see cref="StartReceiving"/>) or by awaiting (<see cref="ReceiveFromAsync"/>), and sends through a
/// bounded queue (<see cref="SendTo"/>, <see cref="SendToAsync"/>). Loop-thread only.
/// </summary>
/// <remarks>
/// <para><b>Receiving.</b> The handler gets each datagram as a span of the socket's receive buffer, valid during the
/// call. It runs on the loop thread; one that throws goes to <see cref="Loop.UnhandledException"/> and receiving goes
/// on. A datagram larger than <see cref="DatagramSocketOptions.MaxDatagramSize"/> is dropped whole and counted in
/// <see cref="TruncatedDatagrams"/>: a handler never sees a cut datagram. After
/// <see cref="DatagramSocketOptions.MaxDatagramsPerIteration"/> datagrams in a row the loop runs its other work before
/// the next one. Errors ICMP reports bring back to a UDP socket (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH) are counted
/// and skipped; any other receive error stops receiving and goes to <see cref="OnError"/> (or, with none, to
/// <see cref="Loop.UnhandledException"/>).</para>
/// <para><b>Sending: queue or drop.</b> UDP has no flow control, so a datagram that does not fit in the kernel's send
/// buffer would block. Datagrams are therefore copied into a queue of <see cref="DatagramSocketOptions.SendQueueBytes"/>
/// and sent in order by the loop. <see cref="SendTo"/> never waits: when the queue is full the datagram is dropped,
/// which is what a UDP sender normally wants (the network drops too), and counted in <see cref="DroppedDatagrams"/>.
/// <see cref="SendToAsync"/> waits for room instead, for a producer that must not drop. A datagram the kernel refuses
/// (EMSGSIZE, EHOSTUNREACH...) is dropped, counted in <see cref="SendErrors"/> and reported to <see cref="OnError"/>;
/// the socket keeps working.</para>
/// <para><b>Models.</b> The same code on both: the socket is registered with its loop (<see cref="Loop.Register"/>), so
/// the reactor tries each recvmsg/sendmsg at once and waits for an edge only after EAGAIN, and the proactor submits
/// IORING_OP_RECVMSG/SENDMSG.</para>
/// <para><b>Ownership and disposal.</b> A socket this type created (<see cref="Bind"/>, <see cref="Open"/>) is closed
/// by <see cref="Dispose"/>, and a Unix socket file it created is unlinked; queued datagrams not yet sent are discarded.
/// Disposing the loop disposes the socket the same way, and a pending <see cref="ReceiveFromAsync"/> or
/// <see cref="SendToAsync"/> then fails with <see cref="ObjectDisposedException"/> naming the loop.</para>
/// </remarks>
public sealed partial class DatagramSocket : LoopComponent, IDisposable
{
    private const int SolSocket = 1, SoSndBuf = 7, SoRcvBuf = 8;

    private readonly LoopFd _fd;
    private readonly string? _unlinkPath;           // the Unix socket file this socket created (never an abstract name)
    private readonly int _maxPerIteration;
    private readonly byte[] _receiveBuffer;
    private readonly Memory<byte> _receiveMemory;    // over the pinned buffer: a proactor receive needs no GC handle
    private readonly Action _onReceived;
    private DatagramHandler? _handler;
    private ValueTask<ReceiveMessageResult> _pendingReceive;
    private bool _disposed, _receiving, _receiveScheduled;

    private static readonly Action<object?> s_resumeReceiving = static s => ((DatagramSocket)s!).ReceiveLoop();

    private DatagramSocket(Loop loop, int fd, bool ownsFd, string? unlinkPath, DatagramSocketOptions options) : base(loop)
    {
        _unlinkPath = unlinkPath;
        _maxPerIteration = options.MaxDatagramsPerIteration;
        _receiveBuffer = GC.AllocateArray<byte>(options.MaxDatagramSize + 1, pinned: true);   // +1: detects a too-large datagram
        _receiveMemory = MemoryMarshal.CreateFromPinnedArray(_receiveBuffer, 0, _receiveBuffer.Length);
        _onReceived = OnReceived;
        _sendArena = GC.AllocateArray<byte>(options.SendQueueBytes, pinned: true);
        _onSent = OnSent;
        if (options.SocketReceiveBufferSize is { } rcv) Posix.SetSocketOption(fd, SolSocket, SoRcvBuf, rcv);
        if (options.SocketSendBufferSize is { } snd) Posix.SetSocketOption(fd, SolSocket, SoSndBuf, snd);
        _fd = loop.Register(fd, ownsFd);
    }

    /// <summary>
    /// Creates a datagram socket bound to <paramref name="localEndPoint"/>: an <see cref="IPEndPoint"/> (UDP over IPv4 or
    /// IPv6; port 0 picks a free port, see <see cref="LocalEndPoint"/>) or a <see cref="UnixDomainSocketEndPoint"/> (a
    /// path, which must not exist yet and is unlinked on dispose, or an abstract name).
    /// </summary>
    /// <exception cref="ArgumentException">An endpoint of another type or family.</exception>
    /// <exception cref="LinuxEventSocketException">socket, setsockopt or bind failed (e.g. EADDRINUSE); nothing stays open.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public static DatagramSocket Bind(Loop loop, EndPoint localEndPoint, DatagramSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(localEndPoint);
        var o = options ?? DatagramSocketOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, "DatagramSocket.Bind");
        loop.CheckLoopThread("DatagramSocket.Bind");
        int fd = Posix.CreateBoundDatagramSocket(localEndPoint, o.ReuseAddress, o.ReusePort, o.IPv6Only);
        string? unlinkPath = localEndPoint is UnixDomainSocketEndPoint && localEndPoint.ToString() is { Length: > 0 } path && path[0] != '@' ? path : null;
        return Create(loop, fd, ownsFd: true, unlinkPath, o);
    }

    /// <summary>
    /// Creates an unbound datagram socket of <paramref name="family"/> (InterNetwork, InterNetworkV6 or Unix), e.g. for
    /// a client: a UDP socket gets an ephemeral port at its first send; an unbound Unix datagram socket sends as an
    /// unnamed peer, which cannot be replied to.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another family.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public static DatagramSocket Open(Loop loop, AddressFamily family, DatagramSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        var o = options ?? DatagramSocketOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, "DatagramSocket.Open");
        loop.CheckLoopThread("DatagramSocket.Open");
        return Create(loop, Posix.CreateDatagramSocket(family), ownsFd: true, unlinkPath: null, o);
    }

    /// <summary>
    /// Wraps an existing datagram socket (e.g. one inherited through systemd socket activation); it is made non-blocking.
    /// It is closed on dispose only if <paramref name="ownsSocket"/>; a Unix socket file is never unlinked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="socket"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed (the socket stays the caller's).</exception>
    public static DatagramSocket FromSocket(Loop loop, int socket, bool ownsSocket, DatagramSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (socket < 0) throw new ArgumentOutOfRangeException(nameof(socket), socket, "DatagramSocket.FromSocket: the fd must not be negative.");
        var o = options ?? DatagramSocketOptions.Default;
        o.Validate();
        LoopDisposal.ThrowIfDisposed(loop, "DatagramSocket.FromSocket");
        loop.CheckLoopThread("DatagramSocket.FromSocket");
        Posix.SetNonBlocking(socket, true);
        var s = new DatagramSocket(loop, socket, ownsSocket, unlinkPath: null, o);
        s.AttachToLoop();
        return s;
    }

    private static DatagramSocket Create(Loop loop, int fd, bool ownsFd, string? unlinkPath, DatagramSocketOptions options)
    {
        DatagramSocket s;
        try
        {
            s = new DatagramSocket(loop, fd, ownsFd, unlinkPath, options);
        }
        catch
        {
            Posix.CloseQuietly(fd);
            if (unlinkPath is not null) Unlink(unlinkPath);
            throw;
        }
        // Attached after the registration, so the loop's disposal releases the registration (closing the fd) first.
        s.AttachToLoop();
        return s;
    }

    /// <summary>The socket's fd (owned by this object when it created the socket).</summary>
    public int Fd => _fd.Fd;

    /// <summary>The address the socket is bound to (getsockname, read on each call: an unbound UDP socket gets its
    /// port at its first send); null for an unnamed Unix socket.</summary>
    public EndPoint? LocalEndPoint => _disposed ? null : Posix.GetLocalEndPoint(Fd);

    /// <summary>True once disposed (also by the loop).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Receives send errors (the datagram was dropped) and the error that stopped receiving. Runs on the loop
    /// thread. With none, send errors are only counted and a receive error goes to <see cref="Loop.UnhandledException"/>.</summary>
    public Action<DatagramSocket, Exception>? OnError { get; set; }

    /// <summary>Datagrams delivered to the handler.</summary>
    public long ReceivedDatagrams { get; private set; }

    /// <summary>Datagrams dropped on receipt because they were larger than <see cref="DatagramSocketOptions.MaxDatagramSize"/>.</summary>
    public long TruncatedDatagrams { get; private set; }

    /// <summary>Receive errors skipped (ICMP reports such as ECONNREFUSED on a UDP socket).</summary>
    public long ReceiveErrors { get; private set; }

    /// <summary>
    /// Starts delivering every datagram to <paramref name="handler"/> (see the type remarks), until the socket is
    /// disposed or a receive error stops it. Once per socket; do not use <see cref="ReceiveFromAsync"/> as well.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already receiving, or an async receive is pending; not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    public void StartReceiving(DatagramHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Loop.CheckLoopThread("DatagramSocket.StartReceiving");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handler is not null) throw new InvalidOperationException("DatagramSocket.StartReceiving: the socket already delivers datagrams to a handler.");
        _handler = handler;
        ScheduleReceive();
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/>: bytes and sender. A datagram larger than the buffer fails
    /// the call with <see cref="DatagramTruncatedException"/> (see <see cref="Loop.ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/>). For sockets that
    /// do not use <see cref="StartReceiving"/>; one receive may be pending at a time.
    /// </summary>
    /// <exception cref="InvalidOperationException">The socket delivers to a handler; not on the loop thread.</exception>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handler is not null)
            throw new InvalidOperationException("DatagramSocket.ReceiveFromAsync: the socket delivers datagrams to its handler (StartReceiving); it cannot also be awaited.");
        return _fd.ReceiveFromAsync(buffer, cancellationToken);
    }

    // ------------------------------------------------------------------ the handler loop

    private void ScheduleReceive()
    {
        if (_receiveScheduled || _receiving || _disposed) return;
        _receiveScheduled = true;
        Loop.Defer(s_resumeReceiving, this);          // never inline: StartReceiving returns before any datagram is delivered
    }

    /// <summary>
    /// Receives and delivers while datagrams complete at once (the reactor reads a queued datagram without waiting), up
    /// to the per-iteration budget; then either waits for the pending receive or yields to the loop. No allocation:
    /// the receive is awaited through a cached continuation, the buffer is pinned and reused.
    /// </summary>
    private void ReceiveLoop()
    {
        _receiveScheduled = false;
        if (_disposed || _receiving) return;
        for (int budget = _maxPerIteration; budget > 0; budget--)
        {
            ValueTask<ReceiveMessageResult> receive;
            try
            {
                receive = _fd.ReceiveMessageAsync(_receiveMemory, Memory<int>.Empty);
            }
            catch (Exception ex)
            {
                StopReceiving(ex);
                return;
            }
            if (!receive.IsCompleted)
            {
                _receiving = true;
                _pendingReceive = receive;
                receive.GetAwaiter().UnsafeOnCompleted(_onReceived);
                return;
            }
            if (!Deliver(receive)) return;
        }
        ScheduleReceive();                            // budget spent: let the loop run its other work first
    }

    private void OnReceived()
    {
        var receive = _pendingReceive;
        _pendingReceive = default;
        _receiving = false;
        if (Deliver(receive)) ReceiveLoop();
    }

    /// <summary>Takes one receive's outcome and delivers it; false when receiving ends.</summary>
    private bool Deliver(ValueTask<ReceiveMessageResult> receive)
    {
        ReceiveMessageResult r;
        try
        {
            r = receive.GetAwaiter().GetResult();
        }
        catch (ObjectDisposedException) when (_disposed || Loop.IsDisposed)
        {
            return false;                              // the socket or the loop went away: nothing to report
        }
        catch (LinuxEventSocketException ex) when (ex.Errno is Errno.ECONNREFUSED or Errno.EHOSTUNREACH or Errno.ENETUNREACH)
        {
            ReceiveErrors++;                          // an ICMP report about an earlier send, not a broken socket
            return !_disposed;
        }
        catch (Exception ex)
        {
            StopReceiving(ex);
            return false;
        }
        if (_disposed) return false;
        if (r.IsTruncated || r.ReceivedBytes > _receiveBuffer.Length - 1)
        {
            TruncatedDatagrams++;                      // never hand a cut datagram to the handler
            return true;
        }
        ReceivedDatagrams++;
        try
        {
            _handler!(this, new ReadOnlySpan<byte>(_receiveBuffer, 0, r.ReceivedBytes), r.RemoteEndPoint);
        }
        catch (Exception ex)
        {
            Loop.ReportException(ex);
        }
        return !_disposed;
    }

    private void StopReceiving(Exception error)
    {
        if (_disposed) return;
        _handler = null;
        Report(error, fatal: true);
    }

    private void Report(Exception error, bool fatal)
    {
        if (OnError is { } onError)
        {
            try { onError(this, error); }
            catch (Exception ex) { Loop.ReportException(ex); }
        }
        else if (fatal) Loop.ReportException(error);
    }

    // ------------------------------------------------------------------ disposal

    /// <summary>Stops receiving and sending, discards queued datagrams, closes the socket if owned and unlinks the Unix
    /// socket file it created. A pending <see cref="ReceiveFromAsync"/> or <see cref="SendToAsync"/> fails with
    /// <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed || IsLoopTornDownElsewhere) return;
        Loop.CheckLoopThread("DatagramSocket.Dispose");
        DisposeCore(loopDisposed: false);
    }

    /// <summary>The loop is being disposed: release everything as <see cref="Dispose"/> does.</summary>
    protected override void OnLoopDisposing() => DisposeCore(loopDisposed: true);

    private void DisposeCore(bool loopDisposed)
    {
        if (_disposed) return;
        _disposed = true;
        DetachFromLoop();
        _handler = null;
        DiscardSendQueue(loopDisposed);
        // Settles a pending receive or send (ObjectDisposedException) and closes an owned fd; the proactor cancels the
        // kernel requests and hands the queue to the kernel before the fd is closed.
        _fd.Dispose();
        if (_unlinkPath is not null) Unlink(_unlinkPath);
    }

    private static void Unlink(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <inheritdoc />
    public override string ToString() => $"DatagramSocket(fd={Fd}{(_disposed ? ", disposed" : "")})";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIfBadRemote(EndPoint remote, string call)
    {
        if (remote is IPEndPoint { AddressFamily: AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 } or UnixDomainSocketEndPoint) return;
        throw new ArgumentException($"{call}: unsupported endpoint '{remote}' ({remote.GetType().Name}, {remote.AddressFamily}); use an IPEndPoint or a UnixDomainSocketEndPoint.", nameof(remote));
    }
}
