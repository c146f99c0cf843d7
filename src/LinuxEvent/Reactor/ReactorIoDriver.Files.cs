using LinuxEvent.Async;
using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent.Reactor;

// The reactor's file operations: a read whose data is cached completes inline (preadv2 RWF_NOWAIT), everything else
// runs on the worker pool (FileWorkerPool) and is delivered back on the loop thread. Under the Fake backend nothing runs:
// requests wait on FakeReadiness for the test to settle them.
internal sealed partial class ReactorIoDriver
{
    private FileWorkerPool? _files;
    private int _fileWorkerThreads = 4;
    private bool _inlineCachedReads = true;

    // Fairness of the page-cache fast path: a read served inline completes synchronously, so a task reading a cached file
    // in a loop would never yield, starving timers and other I/O (measured: a 10 s benchmark timer fired 32 s late).
    // After InlineBudget synchronous completions the next ones complete from the deferred phase instead (still on the
    // loop thread, no thread hop, no allocation), and the budget is refilled from there, i.e. after the loop has waited
    // for I/O and run its timers again.
    internal const int InlineBudget = 32;
    private int _inlineLeft = InlineBudget;
    private static readonly Action<object?> s_refillInline = static s => ((ReactorIoDriver)s!)._inlineLeft = InlineBudget;
    private static readonly Action<object?> s_deliverDeferred = static s =>
    {
        var r = (FileRequest)s!;
        ((ReactorIoDriver)r.Owner!.Loop.Driver).DeliverFile(r, r.Result);
    };

    /// <summary>Reads the file settings of <paramref name="options"/> (loop constructor).</summary>
    internal void ConfigureFiles(ReactorOptions options)
    {
        if (options.FileWorkerThreads is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(options), options.FileWorkerThreads, "ReactorOptions.FileWorkerThreads must be in 1..1024.");
        _fileWorkerThreads = options.FileWorkerThreads;
        _inlineCachedReads = options.InlineCachedFileReads;
    }

    /// <summary>The worker pool, created on first use (its threads are created lazily too).</summary>
    internal FileWorkerPool FilePool => _files ??= new FileWorkerPool(this, Loop, _fileWorkerThreads);

    public override void StartFile(AsyncOp op)
    {
        var r = op.File!;
        r.Owner = op;
        if (Reactor.Fake is { } fake)
        {
            fake.Files.Add(r);
            return;
        }
        if (r.Kind == OperationKind.Read && _inlineCachedReads)
        {
            int n = FileSyscalls.TryReadCached(r.Fd, r.Buffer.Span, r.Offset);
            if (n == r.Length || n == 0)
            {
                // All of it from the page cache, or EOF: no thread hop. The await completes synchronously, within the
                // budget; past it, from the deferred phase (see InlineBudget).
                if (_inlineLeft > 0)
                {
                    if (--_inlineLeft == 0) Loop.Defer(s_refillInline, this);
                    DeliverFile(r, n);
                }
                else
                {
                    r.Result = n;
                    Loop.Defer(s_deliverDeferred, r);
                }
                return;
            }
            if (n > 0) r.Prefix = n;                      // a cached prefix: a worker reads the rest
            else if (n != -Errno.EAGAIN)
            {
                DeliverFile(r, n);                        // EBADF, EISDIR, ESPIPE...: the same error a worker would get
                return;
            }
        }
        try
        {
            r.Pin();
            FilePool.Enqueue(r);
        }
        catch (Exception ex)
        {
            r.Unpin();
            r.Owner = null;
            r.ClearReferences();
            op.Fail(ex);
        }
    }

    /// <summary>Settles <paramref name="r"/>'s await with a syscall result (bytes, fd, 0, or -errno). Loop thread.</summary>
    internal void DeliverFile(FileRequest r, int result)
    {
        var op = r.Owner;
        r.Owner = null;
        r.State = FileRequest.WorkState.None;
        r.Unpin();
        if (op is not null)
        {
            if (result >= 0) op.Complete(result);
            else op.Fail(FileErrors.Create(r, -result));
        }
        else if (r.Kind == OperationKind.OpenAt && result >= 0) Libc.Close(result);   // nobody to hand the fd to
        r.ClearReferences();
    }

    /// <summary>Settles <paramref name="r"/>'s await with <paramref name="error"/> (the request never ran).</summary>
    internal void FailFile(FileRequest r, Exception error)
    {
        var op = r.Owner;
        r.Owner = null;
        r.Unpin();
        r.ClearReferences();
        op?.Fail(error);
    }

    /// <summary>A token cancelled a file operation: a queued request leaves the queue; a running one delivers its result.</summary>
    private void CancelFile(AsyncOp op)
    {
        var r = op.File!;
        bool removed = Reactor.Fake is { } fake ? fake.Files.Remove(r) : _files?.TryDequeue(r) == true;
        if (!removed) return;
        if (op.OwnerDisposed) FailFile(r, ThrowHelper.RegistrationDisposedDuringOperation(r.Fd));
        else
        {
            r.Owner = null;
            r.Unpin();
            r.ClearReferences();
            op.Cancelled();
        }
    }

    /// <summary>
    /// A <see cref="LoopFd"/> ends: its file requests not yet started fail with ObjectDisposedException; the loop waits
    /// (bounded) for running ones, which deliver their results, so the fd can be closed without a worker reaching a file
    /// that reused its number.
    /// </summary>
    private void UnregisterFiles(int fd)
    {
        List<FileRequest>? removed = Reactor.Fake is { } fake ? fake.Files.RemoveFd(fd) : _files?.DetachFd(fd);
        if (removed is null) return;
        foreach (var r in removed) FailFile(r, ThrowHelper.RegistrationDisposedDuringOperation(fd));
    }

    /// <summary>Loop disposal: queued requests fail, running ones deliver (bounded wait), workers stop.</summary>
    private void DisposeFiles()
    {
        if (Reactor.Fake is { } fake)
        {
            foreach (var r in fake.Files.RemoveAll()) FailFile(r, ThrowHelper.LoopDisposedDuringOperation(Loop));
            return;
        }
        _files?.Dispose();
    }
}
