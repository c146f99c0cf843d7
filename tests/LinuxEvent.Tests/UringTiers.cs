namespace LinuxEvent.Tests;

/// <summary>
/// The io_uring capability tiers this kernel can be made to run, as backends: each one steps the ring's setup down
/// the way an older kernel forces it (see UringRing.Create), so every fallback path runs in the suite here. Fed to the
/// proactor contract fixtures next to <see cref="Backends.Proactors"/>, and to the signal and process fixtures (whose
/// watches are the polls that need the pre-5.13 fallback).
/// </summary>
public static class UringTiers
{
    /// <summary>The variants: tiers 1-3 of the setup step-down, and the floor this library supports (Linux 5.10: no
    /// optional setup flags, no IORING_ENTER_EXT_ARG, no multishot poll).</summary>
    public static readonly Backend[] Variants =
    [
        Tier("ProactorUringTier1", new ProactorOptions { SetupTierForTesting = 1 }),      // no NO_SQARRAY (< 6.6)
        Tier("ProactorUringTier2", new ProactorOptions { SetupTierForTesting = 2 }),      // no SINGLE_ISSUER/DEFER_TASKRUN (< 6.1)
        Tier("ProactorUringTier3", new ProactorOptions { SetupTierForTesting = 3 }),      // no COOP_TASKRUN/TASKRUN_FLAG (< 5.19)
        Tier("ProactorUring5_10", new ProactorOptions
        {
            SetupTierForTesting = 4, DisableExtArgForTesting = true, SingleShotPollsForTesting = true,
        }),
    ];

    /// <summary>io_uring with a registered file table for <see cref="LoopFd"/> (ProactorOptions.RegisteredFileSlots).</summary>
    public static readonly Backend RegisteredFiles = Tier("ProactorUringFixedFiles", new ProactorOptions { RegisteredFileSlots = 64 });

    /// <summary>io_uring with a kernel submission thread (ProactorOptions.SubmissionQueuePolling).</summary>
    public static readonly Backend SqPoll = Tier("ProactorUringSqPoll", new ProactorOptions { SubmissionQueuePolling = true });

    /// <summary>Both proactor backends, then every tier variant.</summary>
    public static readonly Backend[] Proactors = [.. Backends.Proactors, .. Variants];

    /// <summary>Every backend of the master list, then every tier variant.</summary>
    public static readonly Backend[] All = [.. Backends.All, .. Variants];

    /// <summary><see cref="All"/> and SQPOLL: the async contract. (Not the signal fixtures: with SQPOLL the signalfd's poll
    /// runs on the kernel's submission thread, which does not see signals directed at the loop thread.)</summary>
    public static readonly Backend[] AllWithSqPoll = [.. All, SqPoll];

    /// <summary>io_uring as it is here, then every tier variant.</summary>
    public static readonly Backend[] RealProactors = [.. Backends.RealProactors, .. Variants];

    /// <summary>Every backend of the master list, then io_uring with registered files and with SQPOLL: the LoopFd and
    /// deadline fixtures.</summary>
    public static readonly Backend[] AllWithRegisteredFiles = [.. Backends.All, RegisteredFiles, SqPoll];

    private static Backend Tier(string name, ProactorOptions options)
        => new(name, LoopModel.Proactor, "uring", isFake: false, () => Loop.CreateProactor(options));
}
