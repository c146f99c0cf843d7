using System.Diagnostics.Metrics;
using System.Net;

namespace LinuxEvent.Net.Tests;

/// <summary>The <c>LinuxEvent</c> meter, observed through a <see cref="MeterListener"/> as dotnet-counters would.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class MetricsTests(Backend backend) : FdCheckedTest
{
    /// <summary>Collects every observable instrument of the meter once, keeping this loop's measurements.</summary>
    private static Dictionary<string, long> Collect(Loop loop, bool busyTime = false)
    {
        var values = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LoopMeter.MeterName) l.EnableMeasurementEvents(instrument);
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            int id = 0;
            string? reason = null;
            foreach (var t in tags)
            {
                if (t.Key == "loop.id") id = (int)t.Value!;
                if (t.Key == "reason") reason = (string?)t.Value;
            }
            if (id != loop.Metrics.Id) return;
            string key = reason is null ? instrument.Name : $"{instrument.Name}/{reason}";
            values[key] = value switch { long v => v, double d => (long)(d * 1e9), int i => i, _ => 0 };
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }

    [Test]
    public void IterationsAcceptsBytesAndClosesAreObservedThroughTheMeter()
    {
        using var loop = backend.Create();
        LoopStream? server = null;
        using var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, 0), (_, c) =>
        {
            server = new LoopStream(loop, c.Fd);
            server.OnData = (s, data) => s.Write(data);          // echo
            server.Start();
        });
        int client = Posix.StartTcpConnect((IPEndPoint)listener.LocalEndPoint!, out _);
        var echoed = new List<byte>();
        var clientStream = new LoopStream(loop, client) { OnData = (_, d) => echoed.AddRange(d.ToArray()) };
        clientStream.Start();
        loop.RunUntil(() => server is not null, TimeSpan.FromSeconds(5));
        clientStream.Write(new byte[1000]);
        loop.RunUntil(() => echoed.Count == 1000, TimeSpan.FromSeconds(5));
        clientStream.Close();
        loop.RunUntil(() => server!.IsClosed, TimeSpan.FromSeconds(5));

        var m = Collect(loop);
        Assert.That(m["linuxevent.loop.iterations"], Is.GreaterThan(0));
        Assert.That(m["linuxevent.listener.accepts"], Is.EqualTo(1));
        Assert.That(m["linuxevent.stream.bytes_received"], Is.EqualTo(2000), "1000 by the server and 1000 echoed to the client");
        Assert.That(m["linuxevent.stream.bytes_sent"], Is.EqualTo(2000));
        Assert.That(m["linuxevent.stream.closes/Local"], Is.EqualTo(1));
        Assert.That(m["linuxevent.stream.closes/PeerClosed"], Is.EqualTo(1));
        Assert.That(m, Does.ContainKey("linuxevent.loop.posted_backlog"));
        Assert.That(m, Does.ContainKey("linuxevent.loop.live_operations"));
        Assert.That(loop.Metrics.Accepts, Is.EqualTo(1));
    }

    [Test]
    public void BusyTimeIsMeasuredOnlyWhileSomeoneListens()
    {
        using var loop = backend.Create();
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(loop.Metrics.BusyTime, Is.EqualTo(TimeSpan.Zero), "no listener: no clock reads, no busy time");
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Name == "linuxevent.loop.busy_time") l.EnableMeasurementEvents(i); };
        listener.Start();
        // A callback that spins for a millisecond of loop time is busy time.
        loop.Post(_ => { var sw = System.Diagnostics.Stopwatch.StartNew(); while (sw.ElapsedTicks < System.Diagnostics.Stopwatch.Frequency / 1000) { } });
        loop.RunOnce(TimeSpan.FromSeconds(1));
        Assert.That(loop.Metrics.BusyTime, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(1)));
    }
}
