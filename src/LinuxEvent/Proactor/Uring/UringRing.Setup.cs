using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinuxEvent.Native;

namespace LinuxEvent.Proactor.Uring;

internal sealed unsafe partial class UringRing
{
    /// <summary>
    /// Creates a ring with <paramref name="entries"/> SQ entries (rounded up to a power of two; values above
    /// 32768 are clamped) and <paramref name="cqEntries"/> CQ entries (0 = kernel default of 2 × SQ; otherwise at
    /// least <paramref name="entries"/>).
    /// <para>Setup flags are tried best-first and stepped down on EINVAL (the kernel's answer to unknown flags):
    /// NO_SQARRAY (6.6) + SINGLE_ISSUER + DEFER_TASKRUN (6.1) + COOP_TASKRUN + TASKRUN_FLAG (5.19) + SUBMIT_ALL
    /// (5.18); then without NO_SQARRAY; then without SINGLE_ISSUER/DEFER_TASKRUN; then without the task-run flags;
    /// then with none — always with CLAMP and, when <paramref name="cqEntries"/> &gt; 0, CQSIZE.</para>
    /// <para>With <paramref name="startDisabled"/> (IORING_SETUP_R_DISABLED, 5.10) the ring cannot be entered
    /// until <see cref="Enable"/> is called; the thread that calls it becomes the SINGLE_ISSUER submitter. Use
    /// this when the ring is built on one thread and driven by another.</para>
    /// </summary>
    /// <exception cref="LinuxEventUnsupportedException">io_uring is unavailable (ENOSYS, EPERM, disabled by
    /// <c>kernel.io_uring_disabled</c>, blocked by seccomp) or lacks IORING_FEAT_NODROP (kernel &lt; 5.5).</exception>
    /// <exception cref="LinuxEventException">Any other failure (ENOMEM, EMFILE, mmap failure).</exception>
    public static UringRing Create(uint entries, uint cqEntries = 0, bool startDisabled = false, int sqPollIdleMs = -1)
        => CreateCore(entries, cqEntries, startDisabled, firstTier: 0, sqPollIdleMs);

    /// <summary>Number of setup-flag tiers <see cref="Create"/> steps through (see <see cref="CreateAtTier"/>).</summary>
    internal const int SetupTierCount = 5;

    /// <summary>
    /// Like <see cref="Create"/>, but starts the step-down at <paramref name="firstTier"/> (0 = best … 4 = no
    /// optional flags), so tests can exercise on a new kernel the code paths older kernels take.
    /// </summary>
    internal static UringRing CreateAtTier(int firstTier, uint entries, uint cqEntries = 0, bool startDisabled = false, int sqPollIdleMs = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstTier);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(firstTier, SetupTierCount);
        return CreateCore(entries, cqEntries, startDisabled, firstTier, sqPollIdleMs);
    }

    // sqPollIdleMs: -1, no SQPOLL. Otherwise IORING_SETUP_SQPOLL with a kernel submission thread that sleeps after this
    // many idle milliseconds (UringRing.SqPoll.cs); DEFER_TASKRUN cannot be combined with it.
    private static UringRing CreateCore(uint entries, uint cqEntries, bool startDisabled, int firstTier, int sqPollIdleMs = -1)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("The io_uring ring layout is implemented for little-endian targets only.");
        ArgumentOutOfRangeException.ThrowIfZero(entries);
        if (cqEntries != 0 && cqEntries < entries)
            throw new ArgumentOutOfRangeException(nameof(cqEntries), cqEntries,
                $"cqEntries must be 0 (default) or at least entries ({entries}); the kernel rejects a CQ smaller than the SQ.");

        uint baseFlags = UringNative.IORING_SETUP_CLAMP
            | (cqEntries != 0 ? UringNative.IORING_SETUP_CQSIZE : 0)
            | (startDisabled ? UringNative.IORING_SETUP_R_DISABLED : 0);
        const uint taskrun = UringNative.IORING_SETUP_COOP_TASKRUN | UringNative.IORING_SETUP_TASKRUN_FLAG;
        const uint single = UringNative.IORING_SETUP_SINGLE_ISSUER | UringNative.IORING_SETUP_DEFER_TASKRUN;
        ReadOnlySpan<uint> tiers =
        [
            UringNative.IORING_SETUP_NO_SQARRAY | single | taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            single | taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            taskrun | UringNative.IORING_SETUP_SUBMIT_ALL,
            UringNative.IORING_SETUP_SUBMIT_ALL,
            0,
        ];

        IoUringParams p = default;
        int fd = -1;
        uint flags = 0;
        foreach (uint tier in tiers[firstTier..])
        {
            p = default;
            flags = baseFlags | tier;
            if (sqPollIdleMs >= 0)
            {
                // io_uring_setup refuses DEFER_TASKRUN with SQPOLL (EINVAL): completions are then posted by the kernel.
                flags = (flags & ~UringNative.IORING_SETUP_DEFER_TASKRUN) | UringNative.IORING_SETUP_SQPOLL;
                p.sq_thread_idle = (uint)sqPollIdleMs;
            }
            p.flags = flags;
            p.cq_entries = cqEntries;
            fd = UringNative.Setup(entries, &p);
            if (fd >= 0)
                break;
            int errno = Libc.LastErrno;
            if (errno != Errno.EINVAL)
                throw SetupFailure(errno, entries, flags);
        }
        if (fd < 0)
            throw new LinuxEventUnsupportedException(Errno.EINVAL, SetupCall(entries, flags),
                "The kernel rejected every io_uring setup flag combination down to the minimal one; its io_uring is too old "
                + "or restricted. Use the reactor model (Loop.CreateReactor()) instead.");

        byte* sqRing = null, cqRing = null;
        IoUringSqe* sqes = null;
        nuint sqRingSize = 0, cqRingSize = 0, sqesSize = 0;
        KernelTimespec* scratch = null;
        try
        {
            if ((p.features & UringNative.IORING_FEAT_NODROP) == 0)
                throw new LinuxEventUnsupportedException(Errno.EINVAL, SetupCall(entries, flags),
                    "io_uring lacks IORING_FEAT_NODROP (kernel older than 5.5), so completions could be lost under load. "
                    + "Use the reactor model (Loop.CreateReactor()) instead.");

            EnsureCloseOnExec(fd);

            // Ring sizes as the kernel lays them out: SQ ring = header + index array; CQ ring = header + CQEs.
            // With IORING_FEAT_SINGLE_MMAP (5.4) both live in one mapping at IORING_OFF_SQ_RING, sized for the larger.
            bool noSqArray = (flags & UringNative.IORING_SETUP_NO_SQARRAY) != 0;
            cqRingSize = p.cq_off.cqes + (nuint)p.cq_entries * CqeSize;
            sqRingSize = noSqArray ? cqRingSize : p.sq_off.array + (nuint)p.sq_entries * sizeof(uint);
            bool singleMmap = (p.features & UringNative.IORING_FEAT_SINGLE_MMAP) != 0;
            if (singleMmap)
                sqRingSize = cqRingSize = Math.Max(sqRingSize, cqRingSize);

            sqRing = MapRing(fd, sqRingSize, UringNative.IORING_OFF_SQ_RING, "SQ ring");
            cqRing = singleMmap ? sqRing : MapRing(fd, cqRingSize, UringNative.IORING_OFF_CQ_RING, "CQ ring");
            sqesSize = (nuint)p.sq_entries * SqeSize;
            sqes = (IoUringSqe*)MapRing(fd, sqesSize, UringNative.IORING_OFF_SQES, "SQE array");

            scratch = (KernelTimespec*)NativeMemory.AllocZeroed((nuint)sizeof(KernelTimespec));
            var caps = Probe(fd, p.features, flags);
            return new UringRing(fd, p, flags, sqRing, sqRingSize, cqRing, cqRingSize, sqes, sqesSize, scratch, caps);
        }
        catch
        {
            if (sqes != null) Libc.Munmap(sqes, sqesSize);
            if (cqRing != null && cqRing != sqRing) Libc.Munmap(cqRing, cqRingSize);
            if (sqRing != null) Libc.Munmap(sqRing, sqRingSize);
            if (scratch != null) NativeMemory.Free(scratch);
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Enables a ring created with <c>startDisabled</c> (IORING_REGISTER_ENABLE_RINGS) and makes the calling
    /// thread its SINGLE_ISSUER submitter. Call it on the thread that will drive the ring.
    /// </summary>
    /// <exception cref="InvalidOperationException">The ring was not created disabled, or is already enabled.</exception>
    public void Enable()
    {
        ThrowIfDisposed();
        if (!_disabled)
            throw new InvalidOperationException("Enable() applies only to a ring created with startDisabled: true, once.");
        if (UringNative.Register(_ringFd, UringNative.IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
            throw new LinuxEventException(Libc.LastErrno, $"io_uring_register(fd={_ringFd}, ENABLE_RINGS)");
        _disabled = false;
        _ownerThreadId = Environment.CurrentManagedThreadId;
        _ownerTaskId = Libc.GetTid();
    }

    private static byte* MapRing(int fd, nuint size, long offset, string what)
    {
        void* p = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (p == (void*)-1)
            throw new LinuxEventException(Libc.LastErrno, string.Create(CultureInfo.InvariantCulture,
                $"mmap(io_uring {what}, size={size}, fd={fd}, offset=0x{offset:x})"));
        return (byte*)p;
    }

    private static void EnsureCloseOnExec(int fd)
    {
        // io_uring fds are created O_CLOEXEC by the kernel (io_uring_install_fd); verify rather than assume, so a
        // child started with posix_spawn never inherits the ring.
        int fdFlags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
        if (fdFlags < 0)
            throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_GETFD)");
        if ((fdFlags & Libc.FD_CLOEXEC) == 0 && Libc.Fcntl(fd, Libc.F_SETFD, fdFlags | Libc.FD_CLOEXEC) < 0)
            throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_SETFD, FD_CLOEXEC)");
    }

    private static UringCapabilities Probe(int fd, uint features, uint setupFlags)
    {
        // IORING_REGISTER_PROBE (5.6): the buffer must be zeroed; the kernel caps nr_args at IORING_OP_LAST.
        const int MaxOps = 256;
        nuint size = (nuint)(sizeof(IoUringProbe) + MaxOps * sizeof(IoUringProbeOp));
        var probe = (IoUringProbe*)NativeMemory.AllocZeroed(size);
        try
        {
            if (UringNative.Register(fd, UringNative.IORING_REGISTER_PROBE, probe, MaxOps) < 0)
                return new UringCapabilities(features, setupFlags, ReadOnlySpan<byte>.Empty, -1);
            var ops = (IoUringProbeOp*)(probe + 1);
            Span<byte> supported = stackalloc byte[MaxOps];
            int n = 0;
            for (int i = 0; i < probe->ops_len; i++)
                if ((ops[i].flags & UringNative.IO_URING_OP_SUPPORTED) != 0)
                    supported[n++] = ops[i].op;
            return new UringCapabilities(features, setupFlags, supported[..n], probe->last_op);
        }
        finally
        {
            NativeMemory.Free(probe);
        }
    }

    private static string SetupCall(uint entries, uint flags)
        => string.Create(CultureInfo.InvariantCulture, $"io_uring_setup(entries={entries}, flags=0x{flags:x})");

    internal static LinuxEventException SetupFailure(int errno, uint entries, uint flags)
    {
        string call = SetupCall(entries, flags);
        const string Alternative = " The reactor model (Loop.CreateReactor()), which needs only epoll, works everywhere.";
        switch (errno)
        {
            case Errno.ENOSYS:
                return new LinuxEventUnsupportedException(errno, call,
                    "io_uring is unavailable: this kernel does not implement io_uring_setup (built without CONFIG_IO_URING, "
                    + "older than 5.1, or a sandbox such as gVisor or a seccomp filter answering ENOSYS)." + Alternative);
            case Errno.EPERM:
            case Errno.EACCES:
                return new LinuxEventUnsupportedException(errno, call,
                    "io_uring is unavailable: " + DescribePolicy() + Alternative);
            case Errno.ENOMEM:
                return new LinuxEventException(errno, call,
                    "Not enough locked memory for the rings (kernels before 5.12 charge them to RLIMIT_MEMLOCK); "
                    + "raise `ulimit -l` or use fewer entries.");
            default:
                return new LinuxEventException(errno, call);
        }
    }

    private static string DescribePolicy()
    {
        string? value = null;
        try
        {
            value = File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return value switch
        {
            "2" => "it is disabled system-wide (sysctl kernel.io_uring_disabled=2).",
            "1" => "it is restricted to privileged processes and members of the group in kernel.io_uring_group "
                   + "(sysctl kernel.io_uring_disabled=1), and this process is neither.",
            "0" => "the kernel allows it (kernel.io_uring_disabled=0) but this process is denied, most likely by a "
                   + "seccomp filter (container runtimes' default profiles block io_uring) or an LSM policy.",
            _ => "the process is denied, most likely by a seccomp filter (container runtimes' default profiles block "
                 + "io_uring) or an LSM policy.",
        };
    }
}
