using System.Net.Sockets;

namespace LinuxEvent.Simulation;

/// <summary>
/// The simulated kernel of a proactor host: it hears every operation the loop submits on a simulated socket and every
/// cancel request, and before each iteration it completes what the network allows, in an order the seed picks.
/// Cancellation is scripted as io_uring really races it: usually the cancel wins, sometimes (the CancelRace fault) the
/// operation completes anyway, after Cancel() returned true.
/// </summary>
internal sealed class ProactorSimKernel
{
    private readonly Simulator _sim;
    private readonly SimHost _host;
    private readonly FakeCompletions _fake;
    private readonly Dictionary<Operation, SimSocket> _owner = new();     // lookups only
    private readonly List<(Operation Op, long Due, bool Race)> _cancels = new();
    private readonly List<SimSocket> _busy = new();
    private byte[] _scratch = new byte[16 * 1024];

    public ProactorSimKernel(Simulator sim, SimHost host, FakeCompletions fake)
    {
        _sim = sim;
        _host = host;
        _fake = fake;
        fake.CancelMode = FakeCancelMode.Scripted;
        fake.Submitted = OnSubmitted;
        fake.CancelRequested = OnCancelRequested;
    }

    private void OnSubmitted(Operation op)
    {
        if (_sim.Find(op.FileDescriptor) is not { } s) return;     // a real fd: left to whoever scripts it
        switch (op.Kind)
        {
            case OperationKind.Receive or OperationKind.Read or OperationKind.ReceiveMultishot or OperationKind.Accept or OperationKind.AcceptMultishot:
                s.Readers.Add(op);
                break;
            case OperationKind.Send or OperationKind.Write:
                s.Writers.Add(op);
                break;
            default:
                s.Control.Add(op);
                break;
        }
        _owner[op] = s;
        Simulator.Changed(s);
    }

    private void OnCancelRequested(Operation op)
    {
        if (!_owner.TryGetValue(op, out var s)) return;
        long now = _sim.NowNanoseconds;
        if (_sim.FaultChance(_sim.Faults.CancelRace))
        {
            // The cancel takes a while to reach the request: what arrives meanwhile completes it (the completion wins).
            long due = now + _sim.NextLatency();
            _cancels.Add((op, due, true));
            _sim.Wake(s, due);
        }
        else _cancels.Add((op, now, false));
        _host.MarkDirty();
    }

    /// <summary>Answers cancel requests, then completes what each socket's state allows (sockets in a seeded order).</summary>
    public void Progress()
    {
        if (_cancels.Count > 0) AnswerCancels();
        _busy.Clear();
        foreach (var s in _host.Sockets)
            if (s.HasOperations && s.EdgePending) _busy.Add(s);
        if (_busy.Count > 1) _sim.ScheduleRandom.Shuffle(_busy);
        foreach (var s in _busy)
        {
            s.EdgePending = false;
            ProgressSocket(s);
        }
    }

    private void AnswerCancels()
    {
        long now = _sim.NowNanoseconds;
        var batch = _cancels.ToArray();
        _cancels.Clear();
        foreach (var (op, due, race) in batch)
        {
            if (op.State != OperationState.Pending || !_owner.TryGetValue(op, out var s)) continue;
            if (due > now)
            {
                _cancels.Add((op, due, race));
                continue;
            }
            if (race && !_fake.CancelRequests.Contains(op))
            {
                // Answered -EALREADY earlier: it completes when it can, like any operation.
                continue;
            }
            if (race && CanComplete(s, op))
            {
                if (_sim.FaultChance(0.5))
                {
                    _fake.RejectCancel(op);                 // -EALREADY: the request was running
                    _sim.Trace.Write($"cancel-ealready {s.Name} {Name(op)}");
                }
                TryComplete(s, op, racing: true);
                _sim.Trace.Write($"cancel-lost {s.Name} {Name(op)}");
            }
            else
            {
                _fake.ConfirmCancel(op);
                Forget(s, op);
                _sim.Trace.Write($"cancelled {s.Name} {Name(op)}");
            }
            _sim.TryRelease(s);
        }
    }

    /// <summary>Whether <paramref name="op"/> could complete now (data, room, a connection, an error to report).</summary>
    private bool CanComplete(SimSocket s, Operation op) => op.Kind switch
    {
        OperationKind.Receive or OperationKind.Read => CanRead(s),
        OperationKind.Send or OperationKind.Write => s.SendSpace > 0 || s.Dead || s.ShutWrite || s.PendingError != 0 || s.Role != SocketRole.Connected,
        OperationKind.Accept => s.Backlog.Count > 0,
        OperationKind.Connect => s.Role != SocketRole.Connecting,
        _ => false,
    };

    private void ProgressSocket(SimSocket s)
    {
        while (s.Control.Count > 0 && TryComplete(s, s.Control[0], racing: false)) { }
        while (s.Readers.Count > 0 && TryComplete(s, s.Readers[0], racing: false)) { }
        while (s.Writers.Count > 0 && TryComplete(s, s.Writers[0], racing: false)) { }
        _sim.TryRelease(s);
    }

    /// <summary>Completes <paramref name="op"/> if the socket allows it now; false to leave it pending.</summary>
    private bool TryComplete(SimSocket s, Operation op, bool racing)
    {
        if (op.State != OperationState.Pending)
        {
            Forget(s, op);
            return true;
        }
        if (!racing && _fake.CancelRequests.Contains(op)) return false;      // answered by AnswerCancels
        int r;
        switch (op.Kind)
        {
            case OperationKind.Receive or OperationKind.Read:
            {
                if (!CanRead(s)) return false;
                if (!racing && Interrupted(s, op)) return true;
                var buffer = Scratch(_fake.GetBufferLength(op));
                r = _sim.Receive(s, buffer, reactor: false);
                if (r == -Errno.EAGAIN) return false;
                if (r >= 0 && op.Kind == OperationKind.Read) _fake.CompleteRead(op, buffer[..r]);
                else if (r >= 0) _fake.CompleteReceive(op, buffer[..r]);
                else _fake.Fail(op, -r);
                break;
            }
            case OperationKind.ReceiveMultishot:
            {
                var buffer = Scratch(_fake.GetBufferLength(op));
                int items = 0;
                while ((r = _sim.Receive(s, buffer, reactor: false)) > 0)
                {
                    _fake.DeliverReceived(op, buffer[..r]);
                    items++;
                }
                if (r == -Errno.EAGAIN) return false;         // stays armed (a cancel request is then confirmed)
                if (EndsAfterItems(s, items)) return false;
                if (r == 0) _fake.Complete(op, 0);
                else _fake.Fail(op, -r);
                break;
            }
            case OperationKind.Accept:
                r = _sim.Accept(s);
                if (r == -Errno.EAGAIN) return false;
                if (r >= 0) _fake.Complete(op, r);
                else _fake.Fail(op, -r);
                break;
            case OperationKind.AcceptMultishot:
            {
                int items = 0;
                while ((r = _sim.Accept(s)) >= 0)
                {
                    _fake.DeliverAccepted(op, r);
                    items++;
                }
                if (r == -Errno.EAGAIN || EndsAfterItems(s, items)) return false;
                _fake.Fail(op, -r);
                break;
            }
            case OperationKind.Send or OperationKind.Write:
            {
                if (!racing && Interrupted(s, op)) return true;
                r = _sim.Send(s, _fake.GetWriteBuffer(op).Span, reactor: false);
                if (r == -Errno.EAGAIN) return false;
                if (r >= 0) _fake.Complete(op, r);
                else _fake.Fail(op, -r);
                break;
            }
            case OperationKind.Connect:
                if (!Connect(s, op)) return false;
                break;
            case OperationKind.Shutdown:
                var how = _fake.GetShutdownDirection(op);
                _sim.Shutdown(s, how != SocketShutdown.Send, how != SocketShutdown.Receive, "shutdown-op");
                _fake.Complete(op, 0);
                break;
            case OperationKind.Close:
                Forget(s, op);                              // the close itself holds no reference to the socket
                Posix.CloseQuietly(op.FileDescriptor);
                _sim.AppClose(s);
                _fake.Complete(op, 0);
                return true;
            default:
                _fake.Fail(op, Errno.EINVAL);               // splice and the rest: not on simulated sockets
                break;
        }
        Forget(s, op);
        return true;
    }

    /// <summary>
    /// A multishot operation that just delivered items must not end in the same breath: settling a fake operation
    /// changes its state at once, which would turn its queued items stale (an accepted fd closed, received bytes
    /// dropped). io_uring posts the final completion after the items; so does the simulation, on the next round.
    /// </summary>
    private static bool EndsAfterItems(SimSocket s, int items)
    {
        if (items == 0) return false;
        Simulator.Changed(s);
        return true;
    }

    private bool Connect(SimSocket s, Operation op)
    {
        switch (s.Role)
        {
            case SocketRole.Connecting:
                return false;
            case SocketRole.Connected:
                _fake.Complete(op, 0);
                return true;
            case SocketRole.Unbound when s.PendingError != 0:
                _fake.Fail(op, _sim.TakeSocketError(s));
                return true;
        }
        var remote = _fake.GetConnectAddress(op);
        int r = remote is null ? -Errno.EINVAL : _sim.Connect(s, remote);
        if (r == -Errno.EINPROGRESS) return false;
        _fake.Fail(op, -r);
        return true;
    }

    /// <summary>True when a read would not return EAGAIN (data, EOF, an error).</summary>
    private bool CanRead(SimSocket s)
    {
        if (s.Rx.Length > 0) return !s.IsStalled(_sim.NowNanoseconds);
        return s.Role is SocketRole.Unbound or SocketRole.Listening || s.PendingError != 0 || s.FinReceived || s.ShutRead || s.Dead;
    }

    /// <summary>The SpuriousRetry fault: the operation completes with EINTR instead of making progress.</summary>
    private bool Interrupted(SimSocket s, Operation op)
    {
        if (!_sim.FaultChance(_sim.Faults.SpuriousRetry)) return false;
        _sim.Trace.Write($"eintr {s.Name} {Name(op)}");
        _fake.Fail(op, Errno.EINTR);
        Forget(s, op);
        return true;
    }

    private void Forget(SimSocket s, Operation op)
    {
        _owner.Remove(op);
        if (!s.Readers.Remove(op) && !s.Writers.Remove(op)) s.Control.Remove(op);
    }

    private Span<byte> Scratch(int length)
    {
        if (_scratch.Length < length) _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        return _scratch.AsSpan(0, length);
    }

    private static string Name(Operation op) => op.Kind switch
    {
        OperationKind.Receive => "recv",
        OperationKind.ReceiveMultishot => "recv-multishot",
        OperationKind.Send => "send",
        OperationKind.Accept => "accept",
        OperationKind.AcceptMultishot => "accept-multishot",
        _ => op.Kind.ToString().ToLowerInvariant(),
    };
}
