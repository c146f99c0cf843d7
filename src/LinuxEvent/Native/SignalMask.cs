using System.Runtime.InteropServices;

namespace LinuxEvent.Native;

/// <summary>Per-thread signal mask helpers (pthread_sigmask) and thread-directed raise, for adaptors and tests.</summary>
internal static unsafe partial class SignalMask
{
    [LibraryImport("libc", EntryPoint = "raise")] private static partial int RaiseNative(int sig);

    /// <summary>Blocks or unblocks <paramref name="signo"/> on the calling thread; returns whether it was blocked before.</summary>
    public static bool SetBlocked(int signo, bool block)
    {
        byte* set = stackalloc byte[Libc.SigSetBytes];
        byte* old = stackalloc byte[Libc.SigSetBytes];
        Libc.SigEmptySet(set);
        Libc.SigAddSet(set, signo);
        int rc = Libc.PthreadSigmask(block ? Libc.SIG_BLOCK : Libc.SIG_UNBLOCK, set, old);
        if (rc != 0) throw new LinuxEventException(rc, $"pthread_sigmask({(block ? "SIG_BLOCK" : "SIG_UNBLOCK")}, signo={signo})");
        return Libc.SigIsMember(old, signo) == 1;
    }

    /// <summary>Whether <paramref name="signo"/> is blocked on the calling thread.</summary>
    public static bool IsBlocked(int signo)
    {
        byte* old = stackalloc byte[Libc.SigSetBytes];
        Libc.PthreadSigmask(Libc.SIG_BLOCK, null, old);
        return Libc.SigIsMember(old, signo) == 1;
    }

    /// <summary>Sends <paramref name="signo"/> to the calling thread (raise(3) = tgkill(getpid(), gettid(), sig)).</summary>
    public static void RaiseOnThisThread(int signo)
    {
        if (RaiseNative(signo) != 0) throw new LinuxEventException(Libc.LastErrno, $"raise({signo})");
    }
}
