namespace LinuxEvent;

/// <summary>Options for <see cref="Loop.CreateReactor(ReactorOptions?)"/>.</summary>
public sealed class ReactorOptions
{
    /// <summary>The readiness backend. Default <see cref="ReactorBackend.Epoll"/>.</summary>
    public ReactorBackend Backend { get; init; } = ReactorBackend.Epoll;

    /// <summary>How many readiness events one kernel wait may return (default 256, range 1..65536).</summary>
    public int MaxEventsPerWait { get; init; } = 256;

    /// <summary>
    /// The reactor's file story: epoll cannot wait on a regular file, so file operations (<c>ReadAtAsync</c>,
    /// <c>WriteAtAsync</c>, <c>FsyncAsync</c>, <c>OpenAsync</c>...) run their blocking syscall on up to this many worker
    /// threads (default 4, like libuv's pool; range 1..1024) and complete on the loop thread. Threads are created on
    /// demand and are background threads; this bounds how many file syscalls run at once (for O_DIRECT reads at queue
    /// depth N, N workers keep N requests at the device). Loop disposal fails queued requests with
    /// ObjectDisposedException and waits up to 10 seconds for running syscalls, which cannot be interrupted, to return
    /// and deliver their results; after that it stops waiting and their awaits fail with ObjectDisposedException (the
    /// worker keeps the buffer pinned until its syscall returns, and closes an fd an abandoned open returns).
    /// </summary>
    public int FileWorkerThreads { get; init; } = 4;

    /// <summary>
    /// When true (default), a positional read first tries preadv2(RWF_NOWAIT) on the loop thread: data already in the
    /// page cache is returned at once, without a thread hop (one extra fcntl per read checks for O_DIRECT, where
    /// RWF_NOWAIT would still wait for the device). A miss costs one EAGAIN and goes to a worker; a partial hit returns
    /// its prefix and a worker reads the rest. Set false to send every read to the worker pool.
    /// </summary>
    public bool InlineCachedFileReads { get; init; } = true;

    /// <summary>
    /// Write coalescing (default true): bytes written to a stream channel (LinuxEvent.Net's <c>LoopStream</c>) from the
    /// loop thread while the loop runs are queued, and each stream's queue goes to the kernel in one send(2) at the end
    /// of the iteration, after every callback of the iteration (deferred continuations included) has run. A fan-out that
    /// writes 50 messages to a stream in one callback costs one send instead of 50; a request/response server still makes
    /// one send per reply, a few microseconds later in the iteration. Writes made outside the loop's run (before
    /// <c>Run</c>, between <c>RunOnce</c> calls) and with this off are tried at once, as before. Closing a stream sends
    /// what it coalesced first (one non-blocking try). The proactor batches by nature: its sends are submitted together
    /// by the next <c>io_uring_enter</c>.
    /// </summary>
    public bool CoalesceWrites { get; init; } = true;

    /// <summary>
    /// <see cref="ReactorBackend.Fake"/> only: the virtual clock. Loops given the same <see cref="LinuxEvent.FakeClock"/>
    /// share one time (a simulated server and its clients). Null (the default): the loop gets its own clock at 1 s.
    /// Ignored by epoll.
    /// </summary>
    public FakeClock? FakeClock { get; init; }
}
