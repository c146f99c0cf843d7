using System.IO.Pipelines;
using System.Net;
using LinuxEvent.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace LinuxEvent.AspNetCore;

/// <summary>
/// A Kestrel connection over a <see cref="LoopDuplexPipe"/>. Kestrel calls it from thread-pool threads (or the loop
/// thread, with inline scheduling); everything that touches the stream is marshalled onto its loop by the pipe.
/// </summary>
internal sealed class LinuxEventConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature,
    ILoopConnectionFeature
{
    private static long s_lastId;

    private readonly LoopDuplexPipe _pipe;
    private readonly FeatureCollection _features = new();
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private CancellationToken? _connectionClosed;

    public LinuxEventConnection(LoopDuplexPipe pipe, Loop loop, EndPoint? local, EndPoint? remote)
    {
        _pipe = pipe;
        Loop = loop;
        Transport = pipe;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<ILoopConnectionFeature>(this);
    }

    public override string ConnectionId
    {
        get => _connectionId ??= "le-" + Interlocked.Increment(ref s_lastId).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    /// <summary>Kestrel's middleware (TLS) may replace it; the pipe underneath stays the connection's.</summary>
    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _connectionClosed ?? _pipe.ReadEnded;
        set => _connectionClosed = value;
    }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public Loop Loop { get; }

    public LoopStream Stream => _pipe.Stream;

    public override void Abort(ConnectionAbortedException abortReason) => _pipe.Abort(abortReason);

    public override void Abort() => _pipe.Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    public override ValueTask DisposeAsync() => _pipe.DisposeAsync();

    public override string ToString() => $"LinuxEventConnection({ConnectionId}, {RemoteEndPoint} on {Loop.BackendName})";
}
