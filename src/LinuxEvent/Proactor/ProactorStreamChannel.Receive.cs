using System.Buffers;

namespace LinuxEvent.Proactor;

internal sealed partial class ProactorStreamChannel
{
    // ------------------------------------------------------------------ receiving: shared ring or per-stream buffer

    private static readonly Action<Operation> s_received = static op => ((ProactorStreamChannel)op.Data!).OnReceived(op);
    private static readonly ReceiveHandler s_chunk = static (op, data) => ((ProactorStreamChannel)op.Data!).OnChunk(data);
    private static readonly Action<Operation> s_multishotEnded = static op => ((ProactorStreamChannel)op.Data!).OnMultishotEnded(op);
    private static readonly Action<object?> s_armDeferred = static s => ((ProactorStreamChannel)s!).ArmDeferred();

    /// <summary>The per-stream receive buffer (per-stream mode only), rented while reading and pinned while in flight.</summary>
    private byte[]? _rx;

    private protected override void SetReadingCore(bool on)
    {
        if (IsClosed) return;
        IsReading = on;
        if (on)
        {
            // A receive being cancelled re-arms itself when it settles (IsReading is checked then).
            if (!Is(State.ReceiveInFlight)) Arm();
        }
        else if (Is(State.ReceiveInFlight) && !Is(State.ReceiveCancelRequested))
        {
            // Bytes the cancel races with are not lost: they are still delivered (a multishot receive's chunks before
            // its final CQE, or a single receive that completed first).
            Set(State.ReceiveCancelRequested, true);
            _recv!.Cancel();
        }
    }

    /// <summary>Arms the receive: decides once, at the first arm, between the shared ring and a buffer of our own.</summary>
    private void Arm()
    {
        if (IsClosed || Proactor.IsDisposed || Is(State.ArmDeferred)) return;
        if (Is(State.SharedRing)) { SubmitMultishot(); return; }
        if (Is(State.PerStream) || !IsSocket) { Set(State.PerStream, true); SubmitReceive(); return; }
        var ring = Driver.StreamRing;
        switch (ring.Ask())
        {
            case StreamReceiveRing.Answer.Ready:
                Set(State.SharedRing, true);
                SubmitMultishot();
                return;
            case StreamReceiveRing.Answer.Later:
                // Before the loop first ran no thread owns the ring yet; registering now would bind it to this one.
                Set(State.ArmDeferred, true);
                Loop.Defer(s_armDeferred, this);
                return;
            case StreamReceiveRing.Answer.Failed:
                FailDeferred(ring.Error!.Errno, "io_uring_register(PBUF_RING)");
                return;
            default:
                Set(State.PerStream, true);
                SubmitReceive();
                return;
        }
    }

    private void ArmDeferred()
    {
        Set(State.ArmDeferred, false);
        if (IsReading && !Is(State.ReceiveInFlight)) Arm();
    }

    // ---- shared ring: one multishot receive (IORING_OP_RECV + IORING_RECV_MULTISHOT + IOSQE_BUFFER_SELECT)

    private void SubmitMultishot()
    {
        try
        {
            if (_recv is null)
            {
                _recv = Proactor.ReceiveMultishot(Fd, Driver.StreamRing.Pool!, s_chunk, s_multishotEnded);
                _recv.Data = this;                    // before any dispatch: callbacks never run inline from a submit
            }
            else Proactor.ResubmitReceiveMultishot(_recv);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "io_uring submit");
            return;
        }
        Set(State.ReceiveInFlight, true);
        Set(State.ReceiveCancelRequested, false);
    }

    /// <summary>
    /// One CQE's bytes, in a ring buffer the backend recycles as soon as this returns. A chunk larger than the stream's
    /// receive size (the ring's buffers are shared by every stream) is handed over in pieces of that size, so the
    /// stream's contract ("the most one read delivers") holds on both receive paths.
    /// </summary>
    private void OnChunk(ReadOnlySpan<byte> data)
    {
        int max = ReceiveBufferSize;
        while (!data.IsEmpty && !IsClosed)
        {
            int n = Math.Min(max, data.Length);
            Handler.OnReceived(data.Slice(0, n));
            data = data.Slice(n);
        }
    }

    /// <summary>The multishot receive ended (its CQE without IORING_CQE_F_MORE).</summary>
    private void OnMultishotEnded(Operation op)
    {
        Set(State.ReceiveInFlight, false);
        bool cancelledByUs = Is(State.ReceiveCancelRequested);
        Set(State.ReceiveCancelRequested, false);
        if (IsClosed) return;                         // no buffer of ours: nothing to release
        switch (op.State)
        {
            case OperationState.Completed:
                // The backend re-arms a multishot receive that ended with data (CQ overflow) or with ENOBUFS, so a
                // completed end is EOF (res 0).
                IsReading = false;
                Handler.OnPeerClosed();
                return;
            case OperationState.Failed:
                int errno = op.Error!.Errno;
                // ENOBUFS: the shared group ran dry (every buffer was held by CQEs not yet reaped). The uring backend
                // re-arms that itself; a backend that reports it (the fake) gets the same treatment here.
                if (errno is Errno.EINTR or Errno.EAGAIN or Errno.ENOBUFS) break;
                Handler.OnFailed(errno, "recv");
                return;
            case OperationState.Cancelled:
                // Not ours: the loop cancels everything when it is disposed; the owner is told by its disposal hook.
                if (!cancelledByUs) return;
                break;
        }
        if (!IsClosed && IsReading && !Is(State.ReceiveInFlight)) SubmitMultishot();
    }

    // ---- per-stream buffer: one IORING_OP_RECV (or READ on a pipe/tty) into _rx

    private void SubmitReceive()
    {
        _rx ??= ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var memory = new Memory<byte>(_rx, 0, ReceiveBufferSize);
        try
        {
            if (_recv is null)
            {
                _recv = IsSocket ? Proactor.Receive(Fd, memory, s_received) : Proactor.Read(Fd, memory, -1, s_received);
                _recv.Data = this;                    // before any dispatch: callbacks never run inline from a submit
            }
            else Proactor.Resubmit(_recv, memory);
        }
        catch (LinuxEventException ex)
        {
            FailDeferred(ex.Errno, "io_uring submit");
            return;
        }
        Set(State.ReceiveInFlight, true);
        Set(State.ReceiveCancelRequested, false);
    }

    private void OnReceived(Operation op)
    {
        Set(State.ReceiveInFlight, false);
        bool cancelledByUs = Is(State.ReceiveCancelRequested);
        Set(State.ReceiveCancelRequested, false);
        if (IsClosed)
        {
            if (Is(State.ReleaseRequested)) ReturnRx();
            return;
        }
        switch (op.State)
        {
            case OperationState.Completed:
                if (op.Result == 0)
                {
                    IsReading = false;
                    ReturnRx();
                    Handler.OnPeerClosed();
                    return;
                }
                Handler.OnReceived(new ReadOnlySpan<byte>(_rx, 0, op.Result));
                break;
            case OperationState.Failed:
                int errno = op.Error!.Errno;
                if (errno is Errno.EINTR or Errno.EAGAIN) break;          // retry: resubmitted below
                Handler.OnFailed(errno, IsSocket ? "recv" : "read");
                return;
            case OperationState.Cancelled:
                // Not ours: the loop cancels everything when it is disposed; the owner is told by its disposal hook.
                if (!cancelledByUs) return;
                break;
        }
        if (IsClosed) return;
        if (IsReading && !Is(State.ReceiveInFlight)) SubmitReceive();
        // Paused: the buffer goes back to the pool until reading resumes, so a paused stream holds none.
        else if (!Is(State.ReceiveInFlight)) ReturnRx();
    }

    private void ReturnRx()
    {
        if (_rx is not null) ArrayPool<byte>.Shared.Return(_rx);
        _rx = null;
    }
}
