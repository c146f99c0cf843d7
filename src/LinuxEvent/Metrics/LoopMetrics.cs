namespace LinuxEvent;

/// <summary>
/// The counters of one loop, published through the <c>LinuxEvent</c> <see cref="System.Diagnostics.Metrics.Meter"/>
/// (see <see cref="LoopMeter"/>): the loop and its backend count iterations, time, posts and kernel events; components
/// built on the loop (LinuxEvent.Net's listeners and streams, or a third party's) record accepts, bytes and closes with
/// the <c>Record*</c> methods. Recording is a field increment on the loop thread: nothing is allocated, and nothing is
/// done per event for the meter, which reads these totals only when a listener (dotnet-counters, OpenTelemetry, a
/// <see cref="System.Diagnostics.Metrics.MeterListener"/>) collects.
/// </summary>
public sealed class LoopMetrics
{
    private readonly object _closesLock = new();
    private (string Reason, long Count)[] _closes = [];

    internal LoopMetrics(Loop loop, int id)
    {
        Loop = loop;
        Id = id;
    }

    /// <summary>The loop.</summary>
    public Loop Loop { get; }

    /// <summary>A process-unique number of the loop (the <c>loop.id</c> tag of its measurements).</summary>
    public int Id { get; }

    /// <summary>Iterations run.</summary>
    public long Iterations { get; internal set; }

    /// <summary>Time spent running callbacks (from the return of the kernel wait to the end of the iteration), measured
    /// only while a listener collects <c>linuxevent.loop.busy_time</c>.</summary>
    public TimeSpan BusyTime => TimeSpan.FromTicks(BusyNanoseconds / 100);

    internal long BusyNanoseconds;

    /// <summary>Connections accepted by listeners on this loop.</summary>
    public long Accepts { get; private set; }

    /// <summary>Times a listener stopped accepting for a while after a resource error (EMFILE, ENFILE, ENOBUFS, ENOMEM).</summary>
    public long AcceptBackoffs { get; private set; }

    /// <summary>Bytes received by streams on this loop.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes the kernel accepted from streams on this loop.</summary>
    public long BytesSent { get; private set; }

    /// <summary>io_uring: times the completion queue was found overflowed (completions held in the kernel's list).</summary>
    public long RingOverflows { get; internal set; }

    /// <summary>io_uring: io_uring_enter calls the kernel answered with EBUSY or EAGAIN.</summary>
    public long RingBusy { get; internal set; }

    /// <summary>Records <paramref name="count"/> accepted connections. Loop thread.</summary>
    public void RecordAccepted(int count = 1) => Accepts += count;

    /// <summary>Records an accept backoff after a resource error. Loop thread.</summary>
    public void RecordAcceptBackoff() => AcceptBackoffs++;

    /// <summary>Records bytes received. Loop thread.</summary>
    public void RecordReceived(long bytes) => BytesReceived += bytes;

    /// <summary>Records bytes sent. Loop thread.</summary>
    public void RecordSent(long bytes) => BytesSent += bytes;

    /// <summary>Records a stream closed for <paramref name="reason"/> (a short, stable word such as "PeerClosed": the
    /// <c>reason</c> tag of <c>linuxevent.stream.closes</c>; pass a cached string, it is compared by value). Loop thread.</summary>
    public void RecordClose(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var closes = _closes;
        for (int i = 0; i < closes.Length; i++)
        {
            if (ReferenceEquals(closes[i].Reason, reason) || closes[i].Reason == reason)
            {
                closes[i].Count++;
                return;
            }
        }
        lock (_closesLock)
        {
            // A new reason (rare: a handful per process): copy-on-write, so a collecting thread never sees a torn array.
            var bigger = new (string, long)[closes.Length + 1];
            closes.CopyTo(bigger, 0);
            bigger[^1] = (reason, 1);
            _closes = bigger;
        }
    }

    /// <summary>Streams closed so far, per reason.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Closes
    {
        get
        {
            var closes = _closes;
            var list = new KeyValuePair<string, long>[closes.Length];
            for (int i = 0; i < closes.Length; i++) list[i] = new(closes[i].Reason, closes[i].Count);
            return list;
        }
    }
}
