using LinuxEvent.Proactor;

namespace LinuxEvent;

// Linked chains in the callback API (io_uring's IOSQE_IO_LINK): the steps are built unsubmitted by an OperationChain
// with the same argument checks as the single operations, then submitted together by ProactorIoDriver.SubmitChain.
public sealed partial class ProactorLoop
{
    /// <summary>
    /// Starts an <see cref="OperationChain"/>: operations that the kernel runs one after the other (io_uring's
    /// IOSQE_IO_LINK), e.g. a write then an fsync of the same file. Add the steps, then call
    /// <see cref="OperationChain.Submit"/>; see <see cref="OperationChain"/> for how a chain ends early.
    /// </summary>
    /// <returns>An empty, unsubmitted chain of this loop.</returns>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public OperationChain Link()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new OperationChain(this);
    }

    internal Operation ChainRead(int fd, Memory<byte> buffer, long offset, Action<Operation>? onComplete)
    {
        ValidateFd(fd, "Link().Read");
        ValidateOffset(offset, "Link().Read");
        return new Operation(this, OperationKind.Read, onComplete) { Fd = fd, Buffer = buffer, Offset = offset, Length = buffer.Length };
    }

    internal Operation ChainWrite(int fd, ReadOnlyMemory<byte> buffer, long offset, Action<Operation>? onComplete)
    {
        ValidateFd(fd, "Link().Write");
        ValidateOffset(offset, "Link().Write");
        return new Operation(this, OperationKind.Write, onComplete) { Fd = fd, ConstBuffer = buffer, Offset = offset, Length = buffer.Length };
    }

    internal Operation ChainReceive(int socket, Memory<byte> buffer, Action<Operation>? onComplete)
    {
        ValidateFd(socket, "Link().Receive");
        return new Operation(this, OperationKind.Receive, onComplete) { Fd = socket, Buffer = buffer, Length = buffer.Length };
    }

    internal Operation ChainSend(int socket, ReadOnlyMemory<byte> buffer, Action<Operation>? onComplete)
    {
        ValidateFd(socket, "Link().Send");
        return new Operation(this, OperationKind.Send, onComplete) { Fd = socket, ConstBuffer = buffer, Length = buffer.Length };
    }

    internal Operation ChainSync(int fd, bool dataOnly, Action<Operation>? onComplete)
    {
        var f = FileArgs(dataOnly ? OperationKind.Fdatasync : OperationKind.Fsync, fd, -1, 0, dataOnly ? "Link().Fdatasync" : "Link().Fsync");
        return new Operation(this, f.Kind, onComplete) { Fd = f.Fd, Offset = f.Offset, File = f };
    }

    internal Operation ChainClose(int fd, Action<Operation>? onComplete)
    {
        ValidateFd(fd, "Link().Close");
        return new Operation(this, OperationKind.Close, onComplete) { Fd = fd };
    }

    internal Operation ChainNop(Action<Operation>? onComplete) => new(this, OperationKind.Nop, onComplete);

    internal void SubmitChain(Operation[] steps) => _driver.SubmitChain(steps);
}
