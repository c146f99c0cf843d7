using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent;

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
        try { sub.Watch = Backend.WatchReadable(fd, static s => { var p = (PidSubscription)s!; p.Loop.OnPidReadable(p); }, sub); }
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
