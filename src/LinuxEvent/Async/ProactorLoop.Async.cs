using System.Net;
using LinuxEvent.Async;
using LinuxEvent.Native;

namespace LinuxEvent;

public sealed partial class ProactorLoop
{
    // Each pooled AsyncOp owns one Operation that is re-targeted and resubmitted on every use, so an awaited
    // operation costs no allocation in steady state.
    private static readonly Action<Operation> s_asyncCompleted = static o => o.Loop.OnAsyncOperationSettled(o);

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(int fd, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => StartAsync(AsyncKind.Read, OperationKind.Read, fd, buffer, default, cancellationToken, nameof(ReadAsync));

    /// <inheritdoc />
    public override ValueTask<int> WriteAsync(int fd, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => StartAsync(AsyncKind.Write, OperationKind.Write, fd, default, buffer, cancellationToken, nameof(WriteAsync));

    /// <inheritdoc />
    public override ValueTask<int> ReceiveAsync(int socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => StartAsync(AsyncKind.Receive, OperationKind.Receive, socket, buffer, default, cancellationToken, nameof(ReceiveAsync));

    /// <inheritdoc />
    public override ValueTask<int> SendAsync(int socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => StartAsync(AsyncKind.Send, OperationKind.Send, socket, default, buffer, cancellationToken, nameof(SendAsync));

    /// <inheritdoc />
    public override ValueTask<int> AcceptAsync(int listeningSocket, CancellationToken cancellationToken = default)
        => StartAsync(AsyncKind.Accept, OperationKind.Accept, listeningSocket, default, default, cancellationToken, nameof(AcceptAsync));

    /// <inheritdoc />
    public override ValueTask ConnectAsync(int socket, EndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (RegistrationOf(socket) is { } registration) return RegisteredConnect(registration, remote, cancellationToken);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        var a = StartOp(AsyncKind.Connect, OperationKind.Connect, socket, default, default, cancellationToken, nameof(ConnectAsync), remote);
        return new ValueTask(a, a.Version);
    }

    private ValueTask<int> StartAsync(AsyncKind kind, OperationKind opKind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        CancellationToken token, string call)
    {
        if (RegistrationOf(fd) is { } registration) return RegisteredIo(registration, kind, buffer, constBuffer, token, call);
        if (token.IsCancellationRequested) return Canceled(token);
        var a = StartOp(kind, opKind, fd, buffer, constBuffer, token, call, null);
        return new ValueTask<int>(a, a.Version);
    }

    /// <summary>Submits the pooled awaitable's operation; a submission failure completes the awaitable with the error.</summary>
    private AsyncOp StartOp(AsyncKind kind, OperationKind opKind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        CancellationToken token, string call, EndPoint? remote)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, $"ProactorLoop.{call}: the fd must not be negative.");
        CheckThread(call);
        if (_disposing) throw new ObjectDisposedException(nameof(ProactorLoop));
        var a = RentAsyncOp(kind, token);
        var op = a.ProactorOperation ??= new Operation(this, opKind, s_asyncCompleted) { Data = a };
        op.Kind = opKind;
        op.State = OperationState.Pending;
        op.Result = 0;
        op.Error = null;
        op.CancelRequested = false;
        op.Fd = fd;
        op.Fd2 = -1;
        op.Offset = -1;
        op.Buffer = buffer;
        op.ConstBuffer = constBuffer;
        op.Length = opKind is OperationKind.Write or OperationKind.Send ? constBuffer.Length : buffer.Length;
        if (remote is not null)
        {
            op.SockAddr ??= GC.AllocateArray<byte>(SockAddr.MaxSize, pinned: true);
            op.SockAddrLength = SockAddr.Write(remote, op.SockAddr);
        }
        a.ModelState = op;
        try
        {
            Submit(op);
        }
        catch (Exception ex)
        {
            a.Fail(ex);
        }
        a.Armed();          // no-op if the submission failed and settled the use
        return a;
    }

    private void OnAsyncOperationSettled(Operation op)
    {
        var a = (AsyncOp)op.Data!;
        op.Buffer = default;
        op.ConstBuffer = default;
        switch (op.State)
        {
            case OperationState.Completed:
                a.Complete(op.Result);
                break;
            case OperationState.Cancelled when a.OwnerDisposed:
                a.Fail(new ObjectDisposedException(nameof(LoopFd), $"LoopFd(fd={op.Fd}) was disposed while the operation was pending."));
                break;
            case OperationState.Cancelled when _disposing:
                // Cancelled by the loop's disposal, not by the caller's token: the same outcome as on the reactor.
                a.Fail(new ObjectDisposedException(nameof(ProactorLoop), "The loop was disposed while the operation was pending."));
                break;
            case OperationState.Cancelled:
                a.Cancelled();
                break;
            default:
                a.Fail(op.Error!.ToException(CallName(op)));
                break;
        }
    }

    private static string CallName(Operation op) => op.Kind switch
    {
        OperationKind.Read => $"read(fd={op.Fd})",
        OperationKind.Write => $"write(fd={op.Fd})",
        OperationKind.Receive => $"recv(fd={op.Fd})",
        OperationKind.Send => $"send(fd={op.Fd})",
        OperationKind.Accept => $"accept4(fd={op.Fd})",
        OperationKind.Connect => $"connect(fd={op.Fd})",
        _ => $"{op.Kind}(fd={op.Fd})",
    };

    // ------------------------------------------------------------------ LoopFd

    // The registration of each fd number, so that fd-number calls on a registered fd go through it (tracked, so that
    // LoopFd.Dispose cancels them too; one pending operation per side, as on the reactor).
    private LoopFd?[] _registeredFds = new LoopFd?[64];

    private LoopFd? RegistrationOf(int fd) => (uint)fd < (uint)_registeredFds.Length ? _registeredFds[fd] : null;

    private protected override void RegisterFd(LoopFd registration)
    {
        int fd = registration.Fd;
        // io_uring needs nothing per fd here; a closed fd is refused now rather than at the first operation.
        if (!Posix.IsOpen(fd)) throw new LinuxEventException(Errno.EBADF, $"ProactorLoop.Register(fd={fd})");
        if (RegistrationOf(fd) is not null)
            throw new InvalidOperationException($"ProactorLoop.Register: fd {fd} is already registered; dispose its LoopFd first.");
        if (fd >= _registeredFds.Length)
        {
            int n = _registeredFds.Length;
            while (n <= fd) n *= 2;
            Array.Resize(ref _registeredFds, n);
        }
        _registeredFds[fd] = registration;
    }

    internal override void UnregisterFd(LoopFd registration)
    {
        CheckThreadOnly("LoopFd.Dispose");              // valid while disposal is requested, before its hooks run
        bool readPending = IsSidePending(registration, reading: true), writePending = IsSidePending(registration, reading: false);
        // Cancelling queues SQEs and the flush below enters the kernel: refuse a thread the ring does not accept before
        // anything changes, so a failed Dispose leaves the registration intact.
        if (readPending || writePending) Backend.CheckKernelAccess("LoopFd.Dispose");
        if (readPending) CancelForDisposal(registration.ReadOp!);
        if (writePending) CancelForDisposal(registration.WriteOp!);
        registration.ReadOp = registration.WriteOp = null;
        if (ReferenceEquals(RegistrationOf(registration.Fd), registration)) _registeredFds[registration.Fd] = null;
        // A cancelled operation submitted in this iteration may still sit in the SQ naming the fd by number, and the fd
        // is closed next (by us when owned, by the caller otherwise): hand the queue to the kernel first.
        if (readPending || writePending) FlushSubmissions("LoopFd.Dispose");
    }

    /// <summary>Hands queued requests to the kernel now (see ProactorBackendBase.FlushSubmissions); before closing an fd they name.</summary>
    internal void FlushSubmissions(string call)
    {
        // Also once disposal is requested but has not reached the backend: the fd is about to be closed all the same.
        if (!_disposing) Backend.FlushSubmissions(call);
    }

    private static void CancelForDisposal(AsyncOp a)
    {
        // The kernel operation holds its own reference to the file, so it must be cancelled before the fd is closed;
        // it settles through its completion (as ObjectDisposedException, or with its result if the kernel finished first).
        a.OwnerDisposed = true;
        if (a.ModelState is Operation op && op.State == OperationState.Pending) op.Cancel();
    }

    internal override ValueTask<int> RegisteredIo(LoopFd registration, AsyncKind kind, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        CancellationToken token, string call)
    {
        registration.ThrowIfDisposed(call);
        bool reading = IsReadSide(kind);
        if (IsSidePending(registration, reading))
            return ValueTask.FromException<int>(SideBusy(registration, reading, call));
        if (token.IsCancellationRequested) return Canceled(token);
        var opKind = kind switch
        {
            AsyncKind.Read => OperationKind.Read,
            AsyncKind.Write => OperationKind.Write,
            AsyncKind.Receive => OperationKind.Receive,
            AsyncKind.Send => OperationKind.Send,
            _ => OperationKind.Accept,
        };
        var a = StartOp(kind, opKind, registration.Fd, buffer, constBuffer, token, call, null);
        Track(registration, reading, a);
        return new ValueTask<int>(a, a.Version);
    }

    internal override ValueTask RegisteredConnect(LoopFd registration, EndPoint remote, CancellationToken token)
    {
        registration.ThrowIfDisposed(nameof(LoopFd.ConnectAsync));
        if (IsSidePending(registration, reading: false))
            return ValueTask.FromException(SideBusy(registration, reading: false, nameof(LoopFd.ConnectAsync)));
        if (token.IsCancellationRequested) return ValueTask.FromCanceled(token);
        var a = StartOp(AsyncKind.Connect, OperationKind.Connect, registration.Fd, default, default, token, nameof(LoopFd.ConnectAsync), remote);
        Track(registration, reading: false, a);
        return new ValueTask(a, a.Version);
    }

    // An op counts only while it is pending for this registration: the pooled awaitable may serve another fd later.
    private static bool IsSidePending(LoopFd r, bool reading)
        => (reading ? r.ReadOp : r.WriteOp) is { } a && ReferenceEquals(a.Owner, r) && a.IsPending;

    private static InvalidOperationException SideBusy(LoopFd r, bool reading, string call)
        => new($"LoopFd.{call}: another {(reading ? "read-side" : "write-side")} async operation is already pending on fd {r.Fd}; await it first.");

    private static void Track(LoopFd r, bool reading, AsyncOp a)
    {
        if (!a.IsPending) return;            // the submission failed and settled the use
        a.Owner = r;
        if (reading) r.ReadOp = a; else r.WriteOp = a;
    }

    private protected override void CancelAsyncIo(AsyncOp a)
    {
        // The kernel operation is cancelled; the await completes from the operation's own settlement (Cancelled, or
        // its real result if the kernel finished first, so no received bytes are lost).
        if (a.ModelState is Operation op && op.State == OperationState.Pending) op.Cancel();
    }
}
