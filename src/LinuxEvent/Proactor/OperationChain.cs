namespace LinuxEvent;

/// <summary>
/// Operations that the kernel runs strictly one after the other (io_uring's IOSQE_IO_LINK), made with
/// <see cref="ProactorLoop.Link"/>: add steps with the methods below, then <see cref="Submit"/> them together, e.g.
/// <c>loop.Link().Write(fd, data, 0).Fsync(fd).Submit()</c> makes the fsync start only once the write completed.
/// </summary>
/// <remarks>
/// <para><b>How a chain ends.</b> Each step starts only when the one before it completed. A step that fails, is
/// cancelled, or (a <see cref="Read"/> or <see cref="Write"/>) transfers fewer bytes than it asked for breaks the
/// chain: the kernel settles every later step as <see cref="OperationState.Cancelled"/> without running it. A short
/// <see cref="Send"/> or <see cref="Receive"/> does not break it (the socket opcodes only fail a link on an error). The
/// step that broke the chain is <see cref="BrokenAt"/>.</para>
/// <para><b>Callbacks</b> run once per step, in step order, like any operation's; the last step's runs last. Each step
/// is an ordinary <see cref="Operation"/> (in <see cref="Steps"/>) once submitted; its buffer stays pinned until its own
/// completion.</para>
/// <para><b>Cancelling.</b> <see cref="Cancel"/>, or <see cref="Operation.Cancel"/> on any pending step, cancels the
/// step that is running and so, through the kernel, every later one: a chain is cancelled from where it is, never
/// half-way through a step that has not started.</para>
/// <para><b>Fakes.</b> Under <see cref="ProactorBackend.Fake"/> the steps appear in <see cref="FakeCompletions.Pending"/>
/// at once, but only the first unsettled one may be scripted; settling one that breaks the chain settles the rest as
/// Cancelled, in order.</para>
/// <para>A step takes no timeout of its own, and a chain holds at most as many steps as the submission queue has
/// entries (<see cref="ProactorOptions.QueueDepth"/>). Submission is all or nothing: if <see cref="Submit"/> throws, no
/// step was queued.</para>
/// </remarks>
public sealed class OperationChain
{
    private readonly ProactorLoop _loop;
    private readonly List<Operation> _steps = new();

    internal OperationChain(ProactorLoop loop) => _loop = loop;

    /// <summary>The steps in order. Before <see cref="Submit"/> they are not pending in the kernel.</summary>
    public IReadOnlyList<Operation> Steps => _steps;

    /// <summary>True once <see cref="Submit"/> succeeded.</summary>
    public bool IsSubmitted { get; private set; }

    /// <summary>True once every step has settled (their callbacks may still be queued).</summary>
    public bool IsSettled
    {
        get
        {
            if (!IsSubmitted) return false;
            foreach (var step in _steps) if (step.State == OperationState.Pending) return false;
            return true;
        }
    }

    /// <summary>The first settled step that ended the chain early (failed, cancelled, timed out, or a short read or
    /// write), or null while none has.</summary>
    public Operation? BrokenAt
    {
        get
        {
            if (!IsSubmitted) return null;
            foreach (var step in _steps)
            {
                if (step.State == OperationState.Pending) return null;
                if (Proactor.ProactorIoDriver.EndsChain(step)) return step;
            }
            return null;
        }
    }

    /// <summary>Adds a read of <paramref name="buffer"/> at <paramref name="offset"/> (-1: the fd's position). Fewer
    /// bytes than the buffer's length (e.g. at end of file) breaks the chain.</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd, or an offset below -1.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Read(int fd, Memory<byte> buffer, long offset, Action<Operation>? onComplete = null)
        => Add(_loop.ChainRead(fd, buffer, offset, onComplete));

    /// <summary>Adds a write of <paramref name="buffer"/> at <paramref name="offset"/> (-1: the fd's position). A short
    /// write breaks the chain.</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd, or an offset below -1.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Write(int fd, ReadOnlyMemory<byte> buffer, long offset, Action<Operation>? onComplete = null)
        => Add(_loop.ChainWrite(fd, buffer, offset, onComplete));

    /// <summary>Adds a receive into <paramref name="buffer"/> on <paramref name="socket"/>.</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Receive(int socket, Memory<byte> buffer, Action<Operation>? onComplete = null)
        => Add(_loop.ChainReceive(socket, buffer, onComplete));

    /// <summary>Adds a send of <paramref name="buffer"/> on <paramref name="socket"/> (MSG_NOSIGNAL).</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Send(int socket, ReadOnlyMemory<byte> buffer, Action<Operation>? onComplete = null)
        => Add(_loop.ChainSend(socket, buffer, onComplete));

    /// <summary>Adds an fsync(2) of <paramref name="fd"/> (IORING_OP_FSYNC).</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Fsync(int fd, Action<Operation>? onComplete = null)
        => Add(_loop.ChainSync(fd, dataOnly: false, onComplete));

    /// <summary>Adds an fdatasync(2) of <paramref name="fd"/>.</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Fdatasync(int fd, Action<Operation>? onComplete = null)
        => Add(_loop.ChainSync(fd, dataOnly: true, onComplete));

    /// <summary>Adds a close(2) of <paramref name="fd"/> (e.g. write, fsync, close).</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative fd.</exception>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Close(int fd, Action<Operation>? onComplete = null)
        => Add(_loop.ChainClose(fd, onComplete));

    /// <summary>Adds a no-op (IORING_OP_NOP): a step that completes as soon as the one before it did.</summary>
    /// <returns>This chain.</returns>
    /// <exception cref="InvalidOperationException">The chain was already submitted.</exception>
    public OperationChain Nop(Action<Operation>? onComplete = null) => Add(_loop.ChainNop(onComplete));

    /// <summary>
    /// Submits every step, linked, in one go. All or nothing: if this throws, no step is pending and the chain may be
    /// submitted again.
    /// </summary>
    /// <returns>This chain.</returns>
    /// <exception cref="InvalidOperationException">No steps, already submitted, or not on the loop's thread.</exception>
    /// <exception cref="ArgumentException">More steps than the submission queue holds.</exception>
    /// <exception cref="LinuxEventUnsupportedException">The kernel lacks the opcode of a step.</exception>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public OperationChain Submit()
    {
        if (IsSubmitted) throw new InvalidOperationException("OperationChain.Submit: the chain was already submitted.");
        if (_steps.Count == 0) throw new InvalidOperationException("OperationChain.Submit: the chain has no steps.");
        _loop.SubmitChain(_steps.ToArray());
        IsSubmitted = true;
        return this;
    }

    /// <summary>Cancels the chain from the step running now: it and every later step settle as Cancelled (a step the
    /// kernel already completed keeps its result). False if nothing was pending.</summary>
    public bool Cancel()
    {
        if (!IsSubmitted) return false;
        foreach (var step in _steps)
            if (step.State == OperationState.Pending) return step.Cancel();
        return false;
    }

    private OperationChain Add(Operation step)
    {
        if (IsSubmitted) throw new InvalidOperationException("OperationChain: the chain was already submitted; start another with ProactorLoop.Link().");
        _steps.Add(step);
        return this;
    }
}
