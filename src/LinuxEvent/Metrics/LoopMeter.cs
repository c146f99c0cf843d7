using System.Diagnostics.Metrics;

namespace LinuxEvent;

/// <summary>
/// The <c>LinuxEvent</c> meter (<see cref="MeterName"/>): every loop's counters as observable instruments, tagged
/// <c>loop.id</c>, <c>loop.model</c> and <c>loop.backend</c>. Watch it with
/// <c>dotnet-counters monitor --counters LinuxEvent -p PID</c>, OpenTelemetry (<c>AddMeter("LinuxEvent")</c>) or a
/// <see cref="MeterListener"/>.
/// </summary>
/// <remarks>
/// <para>Instruments: <c>linuxevent.loop.iterations</c>, <c>linuxevent.loop.busy_time</c> (s, time spent running
/// callbacks), <c>linuxevent.loop.posted_backlog</c> (posts waiting), <c>linuxevent.loop.live_operations</c> (async
/// I/O pending; proactor: kernel operations in flight), <c>linuxevent.loop.timers</c>, <c>linuxevent.listener.accepts</c>,
/// <c>linuxevent.listener.accept_backoffs</c>, <c>linuxevent.stream.bytes_received</c>,
/// <c>linuxevent.stream.bytes_sent</c>, <c>linuxevent.stream.closes</c> (tag <c>reason</c>),
/// <c>linuxevent.uring.cq_overflows</c> and <c>linuxevent.uring.submit_busy</c>.</para>
/// <para><b>Cost.</b> Observable instruments are read only when a listener collects; until then a loop pays a field
/// increment per iteration and nothing else (0 B). Busy time needs two clock reads per iteration, taken only while a
/// listener has that instrument enabled.</para>
/// </remarks>
public static class LoopMeter
{
    /// <summary>The meter's name: <c>LinuxEvent</c>.</summary>
    public const string MeterName = "LinuxEvent";

    private static readonly object s_lock = new();
    private static LoopMetrics[] s_loops = [];
    private static int s_nextId;

    private static readonly Meter s_meter = new(MeterName, typeof(LoopMeter).Assembly.GetName().Version?.ToString());

    private static readonly ObservableCounter<double> s_busyTime = s_meter.CreateObservableCounter(
        "linuxevent.loop.busy_time", () => Observe(static m => m.BusyNanoseconds / 1e9), "s", "Time spent running callbacks (not waiting in the kernel).");

    static LoopMeter()
    {
        s_meter.CreateObservableCounter("linuxevent.loop.iterations", () => Observe(static m => m.Iterations), "{iteration}", "Loop iterations.");
        s_meter.CreateObservableUpDownCounter("linuxevent.loop.posted_backlog", () => Observe(static m => (long)m.Loop.PostedBacklog), "{post}", "Posted actions waiting for the loop.");
        s_meter.CreateObservableUpDownCounter("linuxevent.loop.live_operations", () => Observe(static m => (long)m.Loop.LiveIoCount), "{operation}", "Async I/O pending (proactor: kernel operations in flight).");
        s_meter.CreateObservableUpDownCounter("linuxevent.loop.timers", () => Observe(static m => (long)m.Loop.PendingTimerCount), "{timer}", "Timers scheduled.");
        s_meter.CreateObservableCounter("linuxevent.listener.accepts", () => Observe(static m => m.Accepts), "{connection}", "Connections accepted.");
        s_meter.CreateObservableCounter("linuxevent.listener.accept_backoffs", () => Observe(static m => m.AcceptBackoffs), "{backoff}", "Accept pauses after resource errors.");
        s_meter.CreateObservableCounter("linuxevent.stream.bytes_received", () => Observe(static m => m.BytesReceived), "By", "Bytes received by streams.");
        s_meter.CreateObservableCounter("linuxevent.stream.bytes_sent", () => Observe(static m => m.BytesSent), "By", "Bytes sent by streams.");
        s_meter.CreateObservableCounter("linuxevent.stream.closes", ObserveCloses, "{stream}", "Streams closed, by reason.");
        s_meter.CreateObservableCounter("linuxevent.uring.cq_overflows", () => Observe(static m => m.RingOverflows), "{event}", "Completion queue found overflowed.");
        s_meter.CreateObservableCounter("linuxevent.uring.submit_busy", () => Observe(static m => m.RingBusy), "{event}", "io_uring_enter answered EBUSY/EAGAIN.");
    }

    /// <summary>True while a listener collects busy time (the loop then reads the clock around each wait).</summary>
    internal static bool BusyTimeEnabled => s_busyTime.Enabled;

    internal static LoopMetrics Register(Loop loop)
    {
        lock (s_lock)
        {
            var metrics = new LoopMetrics(loop, ++s_nextId);
            var bigger = new LoopMetrics[s_loops.Length + 1];
            s_loops.CopyTo(bigger, 0);
            bigger[^1] = metrics;
            s_loops = bigger;
            return metrics;
        }
    }

    internal static void Unregister(LoopMetrics metrics)
    {
        lock (s_lock)
        {
            int i = Array.IndexOf(s_loops, metrics);
            if (i < 0) return;
            var smaller = new LoopMetrics[s_loops.Length - 1];
            Array.Copy(s_loops, 0, smaller, 0, i);
            Array.Copy(s_loops, i + 1, smaller, i, s_loops.Length - i - 1);
            s_loops = smaller;
        }
    }

    private static KeyValuePair<string, object?>[] Tags(LoopMetrics m) =>
    [
        new("loop.id", m.Id),
        new("loop.model", m.Loop.Model == LoopModel.Reactor ? "reactor" : "proactor"),
        new("loop.backend", m.Loop.BackendName),
    ];

    private static IEnumerable<Measurement<T>> Observe<T>(Func<LoopMetrics, T> read) where T : struct
    {
        var loops = s_loops;
        var result = new Measurement<T>[loops.Length];
        for (int i = 0; i < loops.Length; i++) result[i] = new Measurement<T>(read(loops[i]), Tags(loops[i]));
        return result;
    }

    private static IEnumerable<Measurement<long>> ObserveCloses()
    {
        var result = new List<Measurement<long>>();
        foreach (var m in s_loops)
        {
            foreach (var (reason, count) in m.Closes)
            {
                var tags = Tags(m);
                Array.Resize(ref tags, tags.Length + 1);
                tags[^1] = new("reason", reason);
                result.Add(new Measurement<long>(count, tags));
            }
        }
        return result;
    }
}
