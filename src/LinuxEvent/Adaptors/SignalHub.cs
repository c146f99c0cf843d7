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
