namespace LinuxEvent;

/// <summary>Options for <see cref="Loop.CreateProactor(ProactorOptions?)"/>.</summary>
public sealed class ProactorOptions
{
    /// <summary>The completion backend. Default <see cref="ProactorBackend.Uring"/>.</summary>
    public ProactorBackend Backend { get; init; } = ProactorBackend.Uring;

    /// <summary>Submission queue entries (rounded up to a power of two by the kernel). Default 256, range 1..32768.</summary>
    public int QueueDepth { get; init; } = 256;

    /// <summary>Completion queue entries; 0 means the kernel default (twice <see cref="QueueDepth"/>).</summary>
    public int CompletionQueueDepth { get; init; }

    /// <summary>
    /// <see cref="ProactorBackend.Fake"/> only: the virtual clock. Loops given the same <see cref="LinuxEvent.FakeClock"/>
    /// share one time (a simulated server and its clients). Null (the default): the loop gets its own clock at 1 s.
    /// Ignored by io_uring.
    /// </summary>
    public FakeClock? FakeClock { get; init; }
    /// <summary>How stream channels receive on sockets. Default <see cref="StreamReceiveMode.Auto"/>.</summary>
    public StreamReceiveMode StreamReceive { get; init; } = StreamReceiveMode.Auto;

    /// <summary>Buffers in the loop's shared stream receive ring (<see cref="StreamReceiveMode.SharedBufferRing"/>):
    /// a power of two in 1..32768, default 256. When more chunks arrive within one iteration than there are buffers,
    /// the kernel ends the receives it cannot serve with ENOBUFS and the loop re-arms them (no data is lost; the bytes
    /// wait in the socket).</summary>
    public int StreamBufferCount { get; init; } = 256;

    /// <summary>Bytes per buffer of the shared stream receive ring, 1..1 MiB, default 16 KiB: the most one receive
    /// delivers. A stream whose <c>receiveBufferSize</c> is smaller gets a larger chunk in pieces of that size. The ring
    /// is created on the loop thread when the first stream starts reading, and its memory (count × size, 4 MiB by
    /// default) is a per-loop cost.</summary>
    public int StreamBufferSize { get; init; } = 16 * 1024;

    /// <summary>
    /// Slots in the io_uring registered file table (IORING_REGISTER_FILES) that <see cref="Loop.Register"/> fills: the
    /// async calls through a <see cref="LoopFd"/> then name the table slot (IOSQE_FIXED_FILE) instead of the fd, which
    /// saves the kernel's per-request fd lookup and reference count. 0 (the default) turns it off; see
    /// docs/benchmarks.md for the measurement behind the default. When the table is full, or the registration is made
    /// from a thread other than the one that drives the ring, a <see cref="LoopFd"/> simply uses its fd number.
    /// Range 0..32768. Ignored by the fake.
    /// </summary>
    public int RegisteredFileSlots { get; init; }

    /// <summary>
    /// Opt-in IORING_SETUP_SQPOLL: a kernel thread polls the submission queue and issues requests as they are queued,
    /// so a loop that keeps it busy submits without io_uring_enter. The thread spins on a CPU while there is work and for
    /// <see cref="SubmissionQueuePollIdle"/> after, then sleeps until woken (one io_uring_enter). It costs a CPU while
    /// busy and rules out IORING_SETUP_DEFER_TASKRUN; see docs/benchmarks.md for what it measured here. Default off.
    /// <para>Limitation: the loop's signalfd is then polled by that kernel thread, and signalfd reports the pending
    /// signals of the task that polls it, so a signal directed at the loop's own thread (and blocked there) is not seen;
    /// process-directed signals, the usual case, are. Linux 5.11 or later (earlier kernels need CAP_SYS_ADMIN).</para>
    /// </summary>
    public bool SubmissionQueuePolling { get; init; }

    /// <summary>How long the <see cref="SubmissionQueuePolling"/> thread keeps polling without work before it sleeps
    /// (sq_thread_idle, whole milliseconds). Default 10 ms; range 0..10 s.</summary>
    public TimeSpan SubmissionQueuePollIdle { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Sends of at least this many bytes (<see cref="LoopFd.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>,
    /// <see cref="Loop.SendAsync(int, ReadOnlyMemory{byte}, CancellationToken)"/>, LoopStream writes, the callback
    /// <c>Send</c>) use IORING_OP_SEND_ZC: the kernel sends from the buffer's pages instead of copying them. Such a send
    /// completes when the kernel has reported its result <em>and</em> released the buffer (the notification; for TCP,
    /// when the data is acknowledged, or at once for a local peer, which gets a copy), so the buffer is reusable on
    /// completion as for any send, at the cost of that wait. 0 (the default) turns it off; see docs/benchmarks.md for
    /// what it measured here. Ignored on a kernel without SEND_ZC (before 6.0: plain SEND) and by the fake. A socket
    /// that cannot send zero-copy (AF_UNIX) gets a plain SEND after the refusal.
    /// </summary>
    public int ZeroCopySendThreshold { get; init; }

    // ---- test knobs: run this kernel the way an older one runs (the tiers of UringRing.Create, docs/design.md) ----

    /// <summary>Test knob: start the setup-flag step-down at this tier (0 = best, 4 = no optional flags).</summary>
    internal int SetupTierForTesting { get; init; }

    /// <summary>Test knob: bound waits with an internal TIMEOUT SQE, as before IORING_FEAT_EXT_ARG (5.11).</summary>
    internal bool DisableExtArgForTesting { get; init; }

    /// <summary>Test knob: single-shot polls re-armed per completion, as before multishot POLL_ADD (5.13).</summary>
    internal bool SingleShotPollsForTesting { get; init; }
}
