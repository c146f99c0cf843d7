using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using LinuxEvent.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.AspNetCore;

/// <summary>
/// One bound endpoint: a <see cref="Listener"/> per loop (TCP with SO_REUSEPORT; Unix-domain on the first loop only),
/// each handing accepted connections to one queue that Kestrel's accept loop reads.
/// </summary>
internal sealed class LinuxEventConnectionListener : IConnectionListener
{
    private readonly LoopGroup _group;
    private readonly LinuxEventTransportOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<LinuxEventConnection> _accepted = Channel.CreateUnbounded<LinuxEventConnection>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
    private readonly Listener?[] _listeners;
    private readonly LoopStreamOptions _streamOptions;
    private readonly LoopPipeOptions _pipeOptions;
    private int _unbound;

    public LinuxEventConnectionListener(LoopGroup group, LinuxEventTransportOptions options, ILogger logger)
    {
        _group = group;
        _options = options;
        _logger = logger;
        _listeners = new Listener?[group.Count];
        // HalfOpen: a client that half-closes after its request still gets the response; Kestrel ends the connection.
        _streamOptions = new LoopStreamOptions { FdKind = StreamFdKind.Socket, PeerEnd = PeerEndBehavior.HalfOpen, ReceiveBufferSize = options.ReceiveBufferSize };
        _pipeOptions = new LoopPipeOptions
        {
            ApplicationScheduler = options.UnsafePreferInlineScheduling ? PipeScheduler.Inline : PipeScheduler.ThreadPool,
            InputPauseThreshold = options.MaxReadBufferSize,
            InputResumeThreshold = options.MaxReadBufferSize / 2,
            OutputPauseThreshold = options.MaxWriteBufferSize,
            OutputResumeThreshold = options.MaxWriteBufferSize / 2,
            InputError = KestrelErrors.ForInput,
        };
        EndPoint = new IPEndPoint(IPAddress.None, 0);
    }

    public EndPoint EndPoint { get; private set; }

    /// <summary>Binds on the loops, one after the other: the first picks the port when it is 0, the others share it.</summary>
    public async Task BindAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        var loops = _group.Loops;
        int count = endpoint is IPEndPoint ? loops.Count : 1;
        try
        {
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var target = i == 0 ? endpoint : EndPoint;
                _listeners[i] = await OnLoop(loops[i], () => Bind(loops[i], target)).ConfigureAwait(false);
                if (i == 0) EndPoint = _listeners[0]!.LocalEndPoint ?? endpoint;
            }
        }
        catch
        {
            await UnbindAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private Listener Bind(Loop loop, EndPoint endpoint)
    {
        var listenerOptions = new ListenerOptions { ReusePort = endpoint is IPEndPoint, Backlog = _options.Backlog, NoDelay = _options.NoDelay };
        try
        {
            return Listener.Bind(loop, endpoint, OnAccept, listenerOptions);
        }
        catch (Exception ex) when (ex is ILinuxEventError { Errno: Errno.EADDRINUSE })
        {
            throw new AddressInUseException($"LinuxEvent transport: {endpoint} is in use ({ex.Message}).", ex);
        }
        catch (Exception ex) when (ex is ILinuxEventError le)
        {
            // Kestrel tells bind failures apart by type and code: for "localhost" it tolerates a SocketException on one
            // of the two loopback addresses (a host without IPv6), which it recognises by its SocketError.
            throw KestrelErrors.ForBind(le, endpoint);
        }
    }

    /// <summary>A new connection, on the loop that accepted it.</summary>
    private void OnAccept(Listener listener, SocketConnection accepted)
    {
        LoopStream stream;
        try { stream = accepted.ToStream(listener.Loop, _streamOptions); }
        catch (Exception ex)
        {
            Posix.CloseQuietly(accepted.Fd);
            _logger.LogWarning(ex, "LinuxEvent transport: could not set up a connection from {Remote}.", accepted.RemoteEndPoint);
            return;
        }
        var pipe = stream.AsDuplexPipe(_pipeOptions);
        EndPoint? local = listener.LocalEndPoint;
        if (local is IPEndPoint { Address: var a } && (a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any)))
        {
            try { local = Posix.GetLocalEndPoint(accepted.Fd); } catch (Exception e) when (e is ILinuxEventError) { }   // the address it arrived on
        }
        var connection = new LinuxEventConnection(pipe, listener.Loop, local, accepted.RemoteEndPoint);
        if (!_accepted.Writer.TryWrite(connection)) pipe.Abort();          // unbound meanwhile
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _accepted.Reader.TryRead(out var connection))
                return connection;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        return null;
    }

    /// <summary>Stops accepting on every loop; connections already accepted carry on.</summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) != 0) return;
        var loops = _group.Loops;
        for (int i = 0; i < _listeners.Length; i++)
        {
            var listener = _listeners[i];
            if (listener is null) continue;
            _listeners[i] = null;
            try { await OnLoop(loops[i], () => { listener.Dispose(); return true; }).ConfigureAwait(false); }
            catch (ObjectDisposedException) { }                  // the loop is gone: its disposal closed the listener
        }
        _accepted.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        // Accepted but never handed to Kestrel: nobody else will close them.
        while (_accepted.Reader.TryRead(out var connection)) connection.Abort();
    }

    /// <summary>Runs <paramref name="work"/> on <paramref name="loop"/>'s thread and returns its result.</summary>
    private static Task<T> OnLoop<T>(Loop loop, Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(_ =>
        {
            try { tcs.TrySetResult(work()); }
            catch (Exception ex) { tcs.TrySetException(ex); }
        });
        return tcs.Task;
    }

    public override string ToString() => $"LinuxEventConnectionListener({EndPoint}, {_group.Count} {_options.Model} loops)";
}
