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

    // ---- test knobs: run this kernel the way an older one runs (the tiers of UringRing.Create, docs/design.md) ----

    /// <summary>Test knob: start the setup-flag step-down at this tier (0 = best, 4 = no optional flags).</summary>
    internal int SetupTierForTesting { get; init; }

    /// <summary>Test knob: bound waits with an internal TIMEOUT SQE, as before IORING_FEAT_EXT_ARG (5.11).</summary>
    internal bool DisableExtArgForTesting { get; init; }

    /// <summary>Test knob: single-shot polls re-armed per completion, as before multishot POLL_ADD (5.13).</summary>
    internal bool SingleShotPollsForTesting { get; init; }
}
