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
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        var a = StartOp(AsyncKind.Connect, OperationKind.Connect, socket, default, default, cancellationToken, nameof(ConnectAsync), remote);
        return new ValueTask(a, a.Version);
    }

    private ValueTask<int> StartAsync(AsyncKind kind, OperationKind opKind, int fd, Memory<byte> buffer, ReadOnlyMemory<byte> constBuffer,
        CancellationToken token, string call)
    {
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

    private protected override void CancelAsyncIo(AsyncOp a)
    {
        // The kernel operation is cancelled; the await completes from the operation's own settlement (Cancelled, or
        // its real result if the kernel finished first, so no received bytes are lost).
        if (a.ModelState is Operation op && op.State == OperationState.Pending) op.Cancel();
    }
}
