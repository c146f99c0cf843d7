namespace LinuxEvent.IdleBench;

/// <summary>One measurement: a server, a connection count, its RSS before and after.</summary>
internal sealed class IdleResult
{
    public required ServerSpec Server { get; init; }
    public required int Requested { get; init; }
    public int Connected { get; set; }
    public int Failed { get; set; }
    public long RssBefore { get; set; }
    public long RssAfter { get; set; }
    public long AnonBefore { get; set; }
    public long AnonAfter { get; set; }
    public long RssAfterClose { get; set; }
    public int? ExitCode { get; set; }
    public string? Error { get; set; }

    /// <summary>Server RSS growth per connection, in bytes.</summary>
    public double BytesPerConnection => Connected > 0 ? (double)(RssAfter - RssBefore) / Connected : double.NaN;

    /// <summary>Anonymous-memory growth per connection, in bytes.</summary>
    public double AnonPerConnection => Connected > 0 ? (double)(AnonAfter - AnonBefore) / Connected : double.NaN;
}
