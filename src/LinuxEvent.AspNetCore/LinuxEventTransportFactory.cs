using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LinuxEvent.AspNetCore;

/// <summary>
/// Kestrel's <see cref="IConnectionListenerFactory"/> on LinuxEvent loops: a <see cref="LoopGroup"/> of
/// <see cref="LinuxEventTransportOptions.LoopCount"/> loops, started on the first bind and disposed with the factory
/// (when the host's services are disposed, after Kestrel has stopped).
/// </summary>
/// <remarks>
/// <para>Each bound endpoint gets one listener per loop (TCP: SO_REUSEPORT, so the kernel spreads connections across
/// the loops; a Unix-domain socket: one listener, on the first loop). Accepted connections become
/// <see cref="ConnectionContext"/>s whose <see cref="ConnectionContext.Transport"/> is a
/// <see cref="LinuxEvent.Net.LoopDuplexPipe"/>: the loop that accepted a connection does all its I/O.</para>
/// <para>Loop callbacks that throw are logged (category <c>LinuxEvent.AspNetCore</c>) and the loop carries on.</para>
/// </remarks>
public sealed class LinuxEventTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IAsyncDisposable, IDisposable
{
    private readonly LinuxEventTransportOptions _options;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private LoopGroup? _group;
    private bool _disposed;

    /// <summary>Creates the factory (the loops start on the first <see cref="BindAsync"/>).</summary>
    public LinuxEventTransportFactory(IOptions<LinuxEventTransportOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("LinuxEvent.AspNetCore");
    }

    /// <summary>The options in effect.</summary>
    public LinuxEventTransportOptions Options => _options;

    /// <summary>The loops, once the first endpoint is bound (null before).</summary>
    public IReadOnlyList<Loop>? Loops => _group?.Loops;

    /// <summary>True for endpoints this transport serves: <see cref="IPEndPoint"/> and <see cref="UnixDomainSocketEndPoint"/>.</summary>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint;

    /// <summary>Binds <paramref name="endpoint"/> on every loop (see the type remarks) and returns its listener.</summary>
    /// <exception cref="AddressInUseException">The address is in use (Kestrel reports it, or falls back as it does for
    /// its own transport).</exception>
    /// <exception cref="NotSupportedException">The endpoint is neither IP nor Unix-domain.</exception>
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!CanBind(endpoint)) throw new NotSupportedException($"LinuxEvent transport: cannot bind {endpoint.GetType().Name} '{endpoint}'; use an IP or Unix-domain endpoint.");
        var group = EnsureStarted();
        var listener = new LinuxEventConnectionListener(group, _options, _logger);
        await listener.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return listener;
    }

    private LoopGroup EnsureStarted()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_group is not null) return _group;
            var logger = _logger;
            try
            {
                _group = LoopGroup.Start(_options.LoopCount, _options.Model, (loop, index) =>
                {
                    loop.UnhandledException = (l, ex) => logger.LogError(ex, "LinuxEvent loop {Index} ({Backend}): a callback threw; the loop carries on.", index, l.BackendName);
                }, _options.PinLoopThreads);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                // Every loop fails the same way (io_uring disabled, out of fds): the first cause is the clear error.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
                throw;
            }
            _logger.LogDebug("LinuxEvent transport: {Count} {Model} loops started.", _options.LoopCount, _options.Model);
            return _group;
        }
    }

    /// <summary>Stops and disposes the loops: connections still open are closed. Idempotent.</summary>
    public void Dispose()
    {
        LoopGroup? group;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            group = _group;
        }
        group?.Dispose();
    }

    /// <summary>Same as <see cref="Dispose"/>, off the calling thread.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }
}
