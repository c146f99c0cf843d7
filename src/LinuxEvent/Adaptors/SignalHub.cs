using System.Runtime.InteropServices;

namespace LinuxEvent;

/// <summary>
/// Process-wide registry: one runtime <see cref="PosixSignalRegistration"/> per signal number while any loop
/// subscribes to it, fanning each arrival out to the subscribed loops. Not on any hot path, so a lock is fine.
/// </summary>
internal static class SignalHub
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<int, (PosixSignalRegistration Registration, List<Loop> Loops)> s_entries = new();

    public static void Add(Loop loop, int signo)
    {
        lock (s_lock)
        {
            if (s_entries.TryGetValue(signo, out var e))
            {
                e.Loops.Add(loop);
                return;
            }
            PosixSignalRegistration reg;
            try
            {
                // Raw signal numbers are accepted on Unix by casting; the runtime installs its handler and restores
                // the previous disposition when the last registration for the number is disposed.
                reg = PosixSignalRegistration.Create((PosixSignal)signo, ctx => Deliver(ctx));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new LinuxEventException(Errno.EINVAL, $"PosixSignalRegistration.Create(signo={signo})", ex.Message);
            }
            s_entries[signo] = (reg, new List<Loop> { loop });
        }
    }

    public static void Remove(Loop loop, int signo)
    {
        lock (s_lock)
        {
            if (!s_entries.TryGetValue(signo, out var e)) return;
            e.Loops.Remove(loop);
            if (e.Loops.Count > 0) return;
            s_entries.Remove(signo);
            e.Registration.Dispose();
        }
    }

    private static int s_runtimeSignalThread;                 // tid of ".NET SigHandler", 0 unknown, -1 absent

    /// <summary>
    /// Re-sends <paramref name="signo"/> to the runtime's signal-handling thread (thread-directed, so no signalfd of ours
    /// can dequeue it again), where the runtime runs every <see cref="PosixSignalRegistration"/> handler of the process.
    /// False when that thread cannot take it (not found, or it blocks the signal): the caller delivers it itself.
    /// </summary>
    public static bool ForwardToRuntime(int signo)
    {
        int tid = Volatile.Read(ref s_runtimeSignalThread);
        if (tid == 0) Volatile.Write(ref s_runtimeSignalThread, tid = FindRuntimeSignalThread());
        if (tid < 0 || BlocksSignal(tid, signo)) return false;
        if (Native.Libc.TgKill(Native.Libc.GetPid(), tid, signo) == 0) return true;
        Volatile.Write(ref s_runtimeSignalThread, 0);            // the thread went away: look again next time
        return false;
    }

    /// <summary>
    /// A signal only a signalfd could see (blocked wherever it was sent): every loop subscribed to it counts it, as a
    /// runtime delivery would, so several loops subscribed to one signal each get it.
    /// </summary>
    public static void DeliverFromSignalFd(Loop reader, int signo)
    {
        Loop[] loops;
        lock (s_lock)
        {
            loops = s_entries.TryGetValue(signo, out var e) ? e.Loops.ToArray() : [reader];
        }
        foreach (var l in loops)
        {
            if (ReferenceEquals(l, reader)) l.CountSignal(signo);
            else l.OnSignalFromRuntime(signo);
        }
    }

    private static int FindRuntimeSignalThread()
    {
        try
        {
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd() == ".NET SigHandler")
                    return int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    /// <summary>Whether thread <paramref name="tid"/> blocks <paramref name="signo"/> (SigBlk in /proc/self/task/TID/status).</summary>
    private static bool BlocksSignal(int tid, int signo)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/task/{tid}/status"))
            {
                if (!line.StartsWith("SigBlk:", StringComparison.Ordinal)) continue;
                ulong mask = ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                return (mask & (1UL << (signo - 1))) != 0;
            }
        }
        catch (IOException) { }
        return true;                                          // unknown: do not risk losing the signal
    }

    private static void Deliver(PosixSignalContext ctx)
    {
        ctx.Cancel = true;          // the loop handles it: suppress the runtime's default action (e.g. exit on SIGTERM)
        int signo = (int)ctx.Signal;
        if (signo < 0) signo = Posix.SignalNumber(ctx.Signal);
        Loop[] loops;
        lock (s_lock)
        {
            if (!s_entries.TryGetValue(signo, out var e)) return;
            loops = e.Loops.ToArray();
        }
        foreach (var l in loops) l.OnSignalFromRuntime(signo);
    }
}
