using System.Runtime.InteropServices;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent;

public static unsafe partial class Posix
{
    /// <summary>
    /// Pins the calling thread to CPU <paramref name="cpu"/> (sched_setaffinity on the thread's tid). Use it from the
    /// thread that runs a loop to keep its caches warm and its interrupts local.
    /// </summary>
    public static void PinCurrentThreadToCpu(int cpu)
    {
        if (cpu < 0 || cpu >= Libc.CpuSetBytes * 8)
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "Posix.PinCurrentThreadToCpu: CPU numbers are 0..1023.");
        byte* mask = stackalloc byte[Libc.CpuSetBytes];
        new Span<byte>(mask, Libc.CpuSetBytes).Clear();
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        if (Libc.SchedSetAffinity(0, Libc.CpuSetBytes, mask) != 0)
            throw new LinuxEventException(Libc.LastErrno, $"sched_setaffinity(tid=self, cpu={cpu})");
    }

    /// <summary>
    /// The Linux signal number of <paramref name="signal"/>: the named <see cref="PosixSignal"/> values are the
    /// runtime's own negative codes (SIGTERM is -4), mapped here to the kernel's numbers (SIGTERM is 15); a raw number
    /// cast to <see cref="PosixSignal"/> (e.g. <c>(PosixSignal)10</c> for SIGUSR1) is returned as it is.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative value the runtime does not define.</exception>
    public static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        PosixSignal.SIGCHLD => 17,
        PosixSignal.SIGCONT => 18,
        PosixSignal.SIGWINCH => 28,
        PosixSignal.SIGTTIN => 21,
        PosixSignal.SIGTTOU => 22,
        PosixSignal.SIGTSTP => 20,
        _ when (int)signal > 0 => (int)signal,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "Posix.SignalNumber: not a signal the runtime defines."),
    };

    /// <summary>kill(2) with a <see cref="PosixSignal"/>.</summary>
    public static void Kill(int pid, PosixSignal signal) => Kill(pid, SignalNumber(signal));

    /// <summary>kill(2).</summary>
    public static void Kill(int pid, int signal)
    {
        if (Libc.Kill(pid, signal) != 0) throw new LinuxEventException(Libc.LastErrno, $"kill(pid={pid}, sig={signal})");
    }

    /// <summary>getpid(2).</summary>
    public static int GetProcessId() => Libc.GetPid();

    /// <summary>
    /// Starts <paramref name="program"/> with posix_spawnp (PATH search; never fork in a .NET process). The child
    /// gets an empty signal mask and default dispositions for every catchable signal, whatever this process blocks or
    /// handles. <paramref name="fdMap"/> pairs (parentFd, childFd) are dup2'ed in the child; all other fds of this
    /// library are close-on-exec. Returns the pid; the caller reaps it (e.g. <see cref="Loop.WatchProcess"/>).
    /// </summary>
    /// <param name="program">File name (searched in PATH) or path.</param>
    /// <param name="arguments">argv[1..]; argv[0] is <paramref name="program"/>.</param>
    /// <param name="environment">Full environment as KEY=VALUE; null inherits this process's environment.</param>
    /// <param name="workingDirectory">Child's working directory; null inherits.</param>
    /// <param name="fdMap">fds to install in the child (e.g. a pipe end as 0, 1 or 2).</param>
    /// <param name="newProcessGroup">Put the child in its own process group (setpgid(0,0)).</param>
    /// <exception cref="LinuxEventException">posix_spawnp failed, e.g. ENOENT for a missing program (reported by the
    /// spawn itself, not as a silent exit code 127).</exception>
    public static int Spawn(string program, IReadOnlyList<string> arguments, IReadOnlyList<string>? environment = null,
        string? workingDirectory = null, IReadOnlyList<(int ParentFd, int ChildFd)>? fdMap = null, bool newProcessGroup = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        ArgumentNullException.ThrowIfNull(arguments);
        var strings = new List<nint>();
        try
        {
            nint Str(string s)
            {
                int len = Encoding.UTF8.GetByteCount(s);
                byte* b = (byte*)NativeMemory.Alloc((nuint)len + 1);
                Encoding.UTF8.GetBytes(s, new Span<byte>(b, len));
                b[len] = 0;
                strings.Add((nint)b);
                return (nint)b;
            }
            byte** argv = (byte**)NativeMemory.AllocZeroed((nuint)(arguments.Count + 2), (nuint)sizeof(nint));
            strings.Add((nint)argv);
            argv[0] = (byte*)Str(program);
            for (int i = 0; i < arguments.Count; i++) argv[i + 1] = (byte*)Str(arguments[i] ?? throw new ArgumentException("Posix.Spawn: an argument is null.", nameof(arguments)));
            byte** envp;
            if (environment is null)
            {
                var env = Environment.GetEnvironmentVariables();
                envp = (byte**)NativeMemory.AllocZeroed((nuint)(env.Count + 1), (nuint)sizeof(nint));
                strings.Add((nint)envp);
                int k = 0;
                foreach (System.Collections.DictionaryEntry e in env) envp[k++] = (byte*)Str($"{e.Key}={e.Value}");
            }
            else
            {
                envp = (byte**)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(nint));
                strings.Add((nint)envp);
                for (int i = 0; i < environment.Count; i++) envp[i] = (byte*)Str(environment[i]);
            }

            byte* fa = stackalloc byte[Libc.SpawnBlobBytes];
            byte* attr = stackalloc byte[Libc.SpawnBlobBytes];
            int rc = Libc.SpawnFileActionsInit(fa);
            if (rc != 0) throw new LinuxEventException(rc, "posix_spawn_file_actions_init");
            rc = Libc.SpawnAttrInit(attr);
            if (rc != 0) { Libc.SpawnFileActionsDestroy(fa); throw new LinuxEventException(rc, "posix_spawnattr_init"); }
            try
            {
                if (fdMap is not null)
                    foreach (var (parent, child) in fdMap)
                    {
                        // dup2 clears FD_CLOEXEC on the new fd; when parent == child dup2 is a no-op that would leave
                        // the flag set, so glibc (2.29+) special-cases it, which we rely on.
                        rc = Libc.SpawnFileActionsAddDup2(fa, parent, child);
                        if (rc != 0) throw new LinuxEventException(rc, $"posix_spawn_file_actions_adddup2({parent}, {child})");
                    }
                if (workingDirectory is not null)
                {
                    rc = Libc.SpawnFileActionsAddChdir(fa, (byte*)Str(workingDirectory));
                    if (rc != 0) throw new LinuxEventException(rc, "posix_spawn_file_actions_addchdir_np");
                }
                byte* empty = stackalloc byte[Libc.SigSetBytes];
                byte* all = stackalloc byte[Libc.SigSetBytes];
                Libc.SigEmptySet(empty);
                Libc.SigFillSet(all);
                Libc.SigDelSet(all, 9);
                Libc.SigDelSet(all, 19);
                Libc.SpawnAttrSetSigMask(attr, empty);
                Libc.SpawnAttrSetSigDefault(attr, all);
                short flags = Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF;
                if (newProcessGroup) { flags |= Libc.POSIX_SPAWN_SETPGROUP; Libc.SpawnAttrSetPgroup(attr, 0); }
                Libc.SpawnAttrSetFlags(attr, flags);
                int pid;
                rc = Libc.PosixSpawnp(&pid, argv[0], fa, attr, argv, envp);
                if (rc != 0)
                    throw new LinuxEventException(rc, $"posix_spawnp({program})", rc == Errno.ENOENT ? $"'{program}' was not found (PATH searched)." : null);
                return pid;
            }
            finally
            {
                Libc.SpawnAttrDestroy(attr);
                Libc.SpawnFileActionsDestroy(fa);
            }
        }
        finally
        {
            foreach (var p in strings) NativeMemory.Free((void*)p);
        }
    }
}
