using LinuxEvent.Native;

namespace LinuxEvent;

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
    public void SendSignal(int signal)
    {
        int fd = PidFd;
        if (fd < 0) throw new InvalidOperationException($"PidSubscription.SendSignal: the watch of pid {Pid} has ended.");
        if (Native.Libc.PidfdSendSignal(fd, signal) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"pidfd_send_signal(pid={Pid}, sig={signal})");
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <see cref="System.Runtime.InteropServices.PosixSignal.SIGTERM"/>) through the
    /// pidfd; see <see cref="SendSignal(int)"/>.</summary>
    public void SendSignal(System.Runtime.InteropServices.PosixSignal signal) => SendSignal(Posix.SignalNumber(signal));

    /// <summary>Same as <see cref="Cancel"/>.</summary>
    public void Dispose() => Cancel();
}
