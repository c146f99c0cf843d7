using LinuxEvent.Native;

namespace LinuxEvent;

/// <summary>How a watched process ended, decoded from waitid(P_PIDFD).</summary>
public readonly record struct ProcessExit
{
    /// <summary>The process id.</summary>
    public int Pid { get; init; }
    /// <summary>True if the process called exit (or returned from main); <see cref="ExitCode"/> is valid.</summary>
    public bool Exited { get; init; }
    /// <summary>The exit status (0..255) when <see cref="Exited"/>.</summary>
    public int ExitCode { get; init; }
    /// <summary>True if a signal ended the process; <see cref="Signal"/> is valid.</summary>
    public bool Signaled { get; init; }
    /// <summary>The terminating signal when <see cref="Signaled"/>.</summary>
    public int Signal { get; init; }
    /// <summary>True if the terminating signal produced a core dump.</summary>
    public bool CoreDumped { get; init; }
    /// <summary>
    /// False when the process was not a child of this process: its exit is observed through the pidfd, but only the
    /// parent can collect (and learn) its status, so <see cref="Exited"/> and <see cref="Signaled"/> are both false.
    /// </summary>
    public bool StatusAvailable { get; init; }

    /// <inheritdoc />
    public override string ToString() => !StatusAvailable ? $"pid {Pid} ended (not our child: status unknown)"
        : Exited ? $"pid {Pid} exited with code {ExitCode}"
        : $"pid {Pid} killed by signal {Signal}{(CoreDumped ? " (core dumped)" : "")}";
}

/// <summary>A watch made by <see cref="Loop.WatchProcess"/>. The callback runs at most once.</summary>
public sealed class PidSubscription : IDisposable
{
    internal readonly Loop Loop;
    internal readonly Action<Loop, ProcessExit> Callback;
    internal int PidFd;
    internal object? Watch;

    internal PidSubscription(Loop loop, int pid, int pidFd, Action<Loop, ProcessExit> callback)
    {
        Loop = loop;
        Pid = pid;
        PidFd = pidFd;
        Callback = callback;
    }

    /// <summary>The watched process id.</summary>
    public int Pid { get; }

    /// <summary>True until the exit was reported or the watch cancelled.</summary>
    public bool IsActive => PidFd >= 0;

    /// <summary>
    /// Stops watching and closes the pidfd. The process is not reaped (a child stays a zombie until someone waits
    /// for it). Returns true if the watch was still active. Loop thread only.
    /// </summary>
    public bool Cancel() => Loop.CancelProcessWatch(this);

    /// <summary>
    /// Sends <paramref name="signal"/> to the process through its pidfd (pidfd_send_signal). Unlike kill(pid), this can
    /// never hit an unrelated process that reused the pid after the watched one was reaped.
    /// </summary>
    /// <exception cref="InvalidOperationException">The watch has ended (the exit was reported or the watch cancelled).</exception>
    /// <exception cref="LinuxEventException">The kernel refused (e.g. ESRCH once the process has exited and been reaped).</exception>
    public void Signal(int signal)
    {
        int fd = PidFd;
        if (fd < 0) throw new InvalidOperationException($"PidSubscription.Signal: the watch of pid {Pid} has ended.");
        if (Native.Libc.PidfdSendSignal(fd, signal) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"pidfd_send_signal(pid={Pid}, sig={signal})");
    }

    /// <summary>Same as <see cref="Cancel"/>.</summary>
    public void Dispose() => Cancel();
}

public abstract partial class Loop
{
    private List<PidSubscription>? _pidSubs;

    /// <summary>
    /// Reports the exit of process <paramref name="pid"/> once, on the loop thread. Uses a pidfd (pidfd_open, Linux 5.3),
    /// never waitpid(-1): for a child of this process it reaps exactly that child with waitid(P_PIDFD) and decodes exit
    /// code, signal and core dump; children nobody asked about are left alone. For a process that is not a child,
    /// the exit is still reported, with <see cref="ProcessExit.StatusAvailable"/> false.
    /// </summary>
    /// <remarks>Do not use it for processes started by <see cref="System.Diagnostics.Process"/>: the runtime reaps
    /// those itself. Start children with posix_spawn (e.g. LinuxEvent.Net's ChildProcess).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pid"/> is not positive.</exception>
    /// <exception cref="LinuxEventException">pidfd_open failed: ESRCH if no such process exists.</exception>
    public PidSubscription WatchProcess(int pid, Action<Loop, ProcessExit> callback)
    {
        if (pid <= 0) throw new ArgumentOutOfRangeException(nameof(pid), pid, "Loop.WatchProcess: the pid must be positive.");
        ArgumentNullException.ThrowIfNull(callback);
        CheckThread(nameof(WatchProcess));
        int fd = Libc.PidfdOpen(pid, 0);     // pidfds are always close-on-exec (pidfd_open(2))
        if (fd < 0)
        {
            int e = Libc.LastErrno;
            throw new LinuxEventException(e, $"pidfd_open(pid={pid})", e == Errno.ESRCH ? "No process with that id exists (it may already have been reaped)." : null);
        }
        var sub = new PidSubscription(this, pid, fd, callback);
        try { sub.Watch = WatchInternal(fd, static s => { var p = (PidSubscription)s!; p.Loop.OnPidReadable(p); }, sub); }
        catch { Libc.Close(fd); sub.PidFd = -1; throw; }
        (_pidSubs ??= new()).Add(sub);
        return sub;
    }

    /// <summary>Number of active process watches.</summary>
    public int ProcessWatchCount => _pidSubs?.Count ?? 0;

    private unsafe void OnPidReadable(PidSubscription sub)
    {
        if (sub.PidFd < 0) return;
        // siginfo_t (128 bytes): si_signo@0, si_errno@4, si_code@8, then on 64-bit si_pid@16, si_uid@20, si_status@24.
        byte* info = stackalloc byte[128];
        new Span<byte>(info, 128).Clear();
        int rc;
        do rc = Libc.WaitId(Libc.P_PIDFD, sub.PidFd, info, Libc.WEXITED | Libc.WNOHANG);
        while (rc < 0 && Libc.LastErrno == Errno.EINTR);

        ProcessExit exit;
        if (rc < 0)
        {
            int e = Libc.LastErrno;
            if (e != Errno.ECHILD) { ReportException(new LinuxEventException(e, $"waitid(P_PIDFD, pidfd={sub.PidFd}, pid={sub.Pid})")); }
            exit = new ProcessExit { Pid = sub.Pid, StatusAvailable = false };
        }
        else
        {
            if (*(int*)(info + 16) == 0) return;     // WNOHANG and not yet exited: spurious readiness
            int code = *(int*)(info + 8), status = *(int*)(info + 24);
            exit = code == Libc.CLD_EXITED
                ? new ProcessExit { Pid = sub.Pid, Exited = true, ExitCode = status, StatusAvailable = true }
                : new ProcessExit { Pid = sub.Pid, Signaled = true, Signal = status, CoreDumped = code == Libc.CLD_DUMPED, StatusAvailable = true };
        }
        ClosePidWatch(sub);
        Invoke(sub.Callback, this, exit);
    }

    internal bool CancelProcessWatch(PidSubscription sub)
    {
        if (sub.PidFd < 0 || IsDisposed) return false;
        CheckThread(nameof(PidSubscription) + ".Cancel");
        ClosePidWatch(sub);
        return true;
    }

    private void ClosePidWatch(PidSubscription sub)
    {
        ((InternalWatch?)sub.Watch)?.Cancel();
        sub.Watch = null;
        if (sub.PidFd >= 0) Libc.Close(sub.PidFd);
        sub.PidFd = -1;
        _pidSubs?.Remove(sub);
    }

    private void DisposeProcessWatches()
    {
        if (_pidSubs is null) return;
        foreach (var s in _pidSubs.ToArray()) ClosePidWatch(s);
    }
}
