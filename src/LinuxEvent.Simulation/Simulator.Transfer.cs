namespace LinuxEvent.Simulation;

public sealed partial class Simulator
{
    /// <summary>
    /// recv(2) on a simulated socket (also read(2)): bytes, 0 at end of stream, or -errno. <paramref name="reactor"/>
    /// allows the spurious-EAGAIN fault, which only a readiness loop can see.
    /// </summary>
    internal int Receive(SimSocket s, Span<byte> buffer, bool reactor)
    {
        switch (s.Role)
        {
            case SocketRole.Listening: return -Errno.ENOTCONN;
            case SocketRole.Connecting: return -Errno.EAGAIN;
            case SocketRole.Unbound: return s.PendingError != 0 ? -TakeError(s) : -Errno.ENOTCONN;
        }
        if (buffer.Length == 0) return 0;
        long now = NowNanoseconds;
        int available = s.Rx.Length;
        if (available > 0 && !s.IsStalled(now))
        {
            if (reactor && _faults.Chance(Faults.SpuriousRetry))
            {
                // As if the data had arrived a moment after this call: the fd is reported again right away.
                Trace.Write($"eagain {s.Name} recv");
                MarkEdge(s);
                return -Errno.EAGAIN;
            }
            int n = Math.Min(buffer.Length, available);
            if (n > 1 && _faults.Chance(Faults.PartialIo)) n = 1 + _net.Next(n - 1);
            s.Rx.Span[..n].CopyTo(buffer);
            s.Rx.Consume(n);
            // A short read with data left: a real TCP stack raises a new edge when it queues the rest.
            if (n < available && n < buffer.Length) MarkEdge(s);
            Trace.Write($"recv {s.Name} {n}/{available}B");
            if (s.Peer is { WantsWritable: true } writer && !writer.Released) SendControl(s, writer, SimEventKind.Window);
            return n;
        }
        // Held back by a stall: the error or end of stream behind the data is not visible yet either.
        if (available > 0) return -Errno.EAGAIN;
        if (s.PendingError != 0) return -TakeError(s);
        if (s.FinReceived || s.ShutRead || s.Dead) return 0;
        return -Errno.EAGAIN;
    }

    /// <summary>send(2) on a simulated socket (also write(2)): bytes taken, or -errno.</summary>
    internal int Send(SimSocket s, ReadOnlySpan<byte> data, bool reactor)
    {
        switch (s.Role)
        {
            case SocketRole.Listening: return -Errno.ENOTCONN;
            case SocketRole.Connecting: return -Errno.EAGAIN;
            case SocketRole.Unbound: return s.PendingError != 0 ? -TakeError(s) : -Errno.EPIPE;
        }
        if (s.PendingError != 0) return -TakeError(s);
        if (s.ShutWrite || s.Dead) return -Errno.EPIPE;
        if (data.Length == 0) return 0;
        int space = s.SendSpace;
        if (space == 0)
        {
            s.WantsWritable = true;
            Trace.Write($"full {s.Name}");
            return -Errno.EAGAIN;
        }
        if (reactor && _faults.Chance(Faults.SpuriousRetry))
        {
            Trace.Write($"eagain {s.Name} send");
            MarkEdge(s);
            return -Errno.EAGAIN;
        }
        int n = Math.Min(data.Length, space);
        bool partial = false;
        if (n > 1 && _faults.Chance(Faults.PartialIo))
        {
            n = 1 + _net.Next(n - 1);
            partial = true;
        }
        Transmit(s, data[..n]);
        Trace.Write($"send {s.Name} {n}/{data.Length}B");
        if (n < data.Length)
        {
            // A full buffer raises EPOLLOUT once room frees up; a short send that left room (the fault) gets its edge now.
            if (partial && s.SendSpace > 0) MarkEdge(s);
            else s.WantsWritable = true;
        }
        return n;
    }

    private static int TakeError(SimSocket s)
    {
        int e = s.PendingError;
        s.PendingError = 0;
        return e;
    }

    /// <summary>Puts bytes on the wire from <paramref name="s"/> to its peer, in one or several segments.</summary>
    private void Transmit(SimSocket s, ReadOnlySpan<byte> bytes)
    {
        var peer = s.Peer!;
        s.InFlight += bytes.Length;
        while (bytes.Length > 0)
        {
            int n = bytes.Length;
            if (n > 1 && _faults.Chance(Faults.PartialIo)) n = 1 + _net.Next(n - 1);     // segmentation
            Schedule(ArrivalTime(s), new SimEvent(SimEventKind.Data, peer, bytes[..n].ToArray()));
            bytes = bytes[n..];
        }
    }

    /// <summary>
    /// When a segment sent now by <paramref name="from"/> arrives: a latency drawn from the seed (plus the Delay fault),
    /// never before the previous segment of the same stream, so one TCP stream stays in order while streams of
    /// different connections overtake each other.
    /// </summary>
    private long ArrivalTime(SimSocket from)
    {
        long latency = NextLatency();
        if (_faults.Chance(Faults.Delay)) latency += _net.NextInRange(0, Faults.MaxExtraDelay.Ticks * 100);
        long at = Math.Max(NowNanoseconds + latency, from.LastArrival);
        from.LastArrival = at;
        return at;
    }

    /// <summary>A one-way latency drawn from the network's stream (no Delay fault).</summary>
    internal long NextLatency()
    {
        long min = Faults.MinLatency.Ticks * 100, max = Math.Max(min, Faults.MaxLatency.Ticks * 100);
        return _net.NextInRange(min, max);
    }

    /// <summary>Has <paramref name="s"/>'s host look at it again at <paramref name="at"/>.</summary>
    internal void Wake(SimSocket s, long at) => Schedule(at, new SimEvent(SimEventKind.Wake, s));

    /// <summary>A control segment (FIN, RST, window update, handshake) from <paramref name="from"/> to <paramref name="to"/>,
    /// in order after what <paramref name="from"/> sent before.</summary>
    internal void SendControl(SimSocket from, SimSocket to, SimEventKind kind, SimSocket? listener = null)
        => Schedule(ArrivalTime(from), new SimEvent(kind, to) { Listener = listener });

    /// <summary>A segment reached <paramref name="e"/>'s target.</summary>
    private void Deliver(SimEvent e)
    {
        var t = e.Target;
        var sender = t.Peer;
        int length = e.Data!.Length;
        if (sender is not null) sender.InFlight -= length;
        if (t.Released || t.AppClosed)
        {
            // Data for a socket the application closed: the kernel answers with a reset.
            if (sender is not null) sender.Host.BytesLost += length;
            Trace.Write($"drop {t.Name} {length}B closed");
            if (sender is { Dead: false, Released: false } && !t.Dead)
            {
                t.Dead = true;
                SendControl(t, sender, SimEventKind.Rst);
            }
            return;
        }
        if (t.Dead)
        {
            if (sender is not null) sender.Host.BytesLost += length;
            Trace.Write($"drop {t.Name} {length}B reset");
            return;
        }
        if (sender is { Dead: false } && _faults.Chance(Faults.Reset))
        {
            sender.Host.BytesLost += length;
            Trace.Write($"fault reset {t.Name}<>{sender.Name} ({length}B lost)");
            Reset(t);
            SendControl(t, sender, SimEventKind.Rst);
            return;
        }
        t.Rx.Append(e.Data);
        Trace.Write($"deliver {t.Name} {length}B rx={t.Rx.Length}");
        if (t.StallUntil <= NowNanoseconds && _faults.Chance(Faults.StopReading))
        {
            t.StallUntil = NowNanoseconds + _net.NextInRange(1, Faults.MaxStall.Ticks * 100);
            Trace.Write($"fault stall {t.Name} {(t.StallUntil - NowNanoseconds) / 1000}us");
            Schedule(t.StallUntil, new SimEvent(SimEventKind.Wake, t));
        }
        Changed(t);
    }

    /// <summary>The connection of <paramref name="s"/> is reset: its error is ECONNRESET, sends fail from now on.</summary>
    private void Reset(SimSocket s)
    {
        if (s.Dead || s.Released) return;
        s.Dead = true;
        if (s.Role == SocketRole.Connecting)
        {
            s.Role = SocketRole.Unbound;
            s.PendingError = Errno.ECONNREFUSED;
        }
        else s.PendingError = Errno.ECONNRESET;
        s.WantsWritable = false;
        Changed(s);
    }

    /// <summary>Something about <paramref name="s"/> changed that its loop may want to hear: an edge, and work for its host.</summary>
    internal static void Changed(SimSocket s)
    {
        s.EdgePending = true;
        s.Host.MarkDirty();
    }

    private static void MarkEdge(SimSocket s) => Changed(s);
}
