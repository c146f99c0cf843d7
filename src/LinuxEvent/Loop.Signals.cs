using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent;

public abstract partial class Loop
{
    // Per-loop signal state. Counts are bumped from the runtime's signal thread, hence Interlocked.
    private readonly int[] _signalCounts = new int[65];
    private List<SignalSubscription>? _signalSubs;
    private int _signalFd = -1;
    private InternalWatch? _signalFdWatch;
    private readonly Action<Loop, object?> _dispatchSignalsAction = static (loop, _) => loop.DispatchSignals();

    /// <summary>
    /// Subscribes to <paramref name="signal"/> (subscribing is <c>Signal</c>; sending one is
    /// <see cref="PidSubscription.SendSignal(int)"/> or <see cref="Posix.Kill(int, int)"/>); <paramref name="callback"/>
    /// runs on the loop thread with the signal's Linux number and the coalesced count of arrivals.
    /// </summary>
    /// <remarks>
    /// <para><b>Delivery.</b> A .NET process runs threads this library does not control, and a process-directed signal
    /// goes to any thread that does not block it, so blocking it on the loop thread alone would lose it (or kill the
    /// process with the default action). Two paths therefore feed one coalescing counter per loop and signal:</para>
    /// <list type="bullet">
    /// <item>the runtime's <see cref="PosixSignalRegistration"/>: its handler (on a runtime thread) cancels the
    /// default action, bumps the counter and wakes the loop: this catches every signal that some thread can take;</item>
    /// <item>a signalfd for the subscribed set, watched by the loop: this catches signals that are blocked where
    /// they were sent (blocked in every thread, or sent to the loop thread while it blocks them), which no handler
    /// ever sees. A signal is consumed by exactly one of the two, so nothing is counted twice.</item>
    /// </list>
    /// <para>A signal this process inherited as ignored stays ignored: the runtime (like most shells' job control expects)
    /// does not install a handler over SIG_IGN, e.g. SIGINT for a job started in the background with <c>prog &amp;</c>.
    /// Use SIGTERM for shutdown.</para>
    /// <para>The library never changes any thread's signal mask. While subscribed, the signal's default action
    /// (e.g. termination for SIGTERM or SIGUSR1) does not happen.</para>
    /// <para><b>Several subscriptions</b> to one signal (in one loop or several loops) all receive every delivery, in
    /// subscription order within a loop, each with the same count. When the last subscription in the process is
    /// cancelled, the disposition that was in place before the first one is restored. A signal that arrives after that
    /// (including one the kernel delivered just before the cancel but the runtime had not yet handed to managed code)
    /// meets the restored disposition, which for most signals is termination: cancel (or dispose the loop) only once no
    /// more such signals are expected, e.g. stop sending a status signal before sending the shutdown one.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The signal is not in 1..64.</exception>
    /// <exception cref="ArgumentException">SIGKILL or SIGSTOP (cannot be caught) or a synchronous fault signal
    /// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, which belong to the runtime).</exception>
    public SignalSubscription Signal(PosixSignal signal, Action<Loop, SignalEvent> callback) => Signal(Posix.SignalNumber(signal), callback);

    /// <summary>
    /// Subscribes to signal <paramref name="signalNumber"/> (a Linux number, e.g. 15 for SIGTERM); see
    /// <see cref="Signal(PosixSignal, Action{Loop, SignalEvent})"/> for the contract.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="signalNumber"/> is not in 1..64.</exception>
    /// <exception cref="ArgumentException">SIGKILL or SIGSTOP (cannot be caught) or a synchronous fault signal
    /// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, which belong to the runtime).</exception>
    public SignalSubscription Signal(int signalNumber, Action<Loop, SignalEvent> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (signalNumber is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(signalNumber), signalNumber, "Loop.Signal: signal numbers are 1..64.");
        if (signalNumber is 9 or 19)
            throw new ArgumentException($"Loop.Signal: signal {signalNumber} (SIGKILL/SIGSTOP) cannot be caught.", nameof(signalNumber));
        if (signalNumber is 4 or 5 or 7 or 8 or 11)
            throw new ArgumentException($"Loop.Signal: signal {signalNumber} is a synchronous fault signal owned by the .NET runtime.", nameof(signalNumber));
        CheckThread(nameof(Signal));

        var sub = new SignalSubscription(this, signalNumber, callback);
        // The loop joins the hub and the signalfd set once per signal number; further subscriptions of the same
        // number share that registration and are fanned out by DispatchSignals.
        bool firstInLoop = !(_signalSubs?.Exists(s => s.Number == signalNumber) ?? false);
        if (firstInLoop)
        {
            UpdateSignalFd(signalNumber, add: true);
            try
            {
                SignalHub.Add(this, signalNumber);
            }
            catch
            {
                UpdateSignalFd(signalNumber, add: false);
                throw;
            }
        }
        (_signalSubs ??= new()).Add(sub);
        return sub;
    }

    internal bool CancelSignal(SignalSubscription sub)
    {
        if (!sub.Active || IsDisposed) return false;
        CheckThread(nameof(SignalSubscription) + ".Cancel");
        sub.Active = false;
        _signalSubs!.Remove(sub);
        if (!_signalSubs.Exists(s => s.Number == sub.Number))
        {
            SignalHub.Remove(this, sub.Number);
            UpdateSignalFd(sub.Number, add: false);
            Interlocked.Exchange(ref _signalCounts[sub.Number], 0);
        }
        return true;
    }

    /// <summary>Arrivals of <paramref name="signo"/> counted but not yet dispatched (diagnostics and tests).</summary>
    internal int PendingSignalCount(int signo) => Volatile.Read(ref _signalCounts[signo]);

    /// <summary>Counts an arrival read from this loop's own signalfd (loop thread; the caller dispatches).</summary>
    internal void CountSignal(int signo) => Interlocked.Increment(ref _signalCounts[signo]);

    /// <summary>Called on a runtime thread by the signal hub.</summary>
    internal void OnSignalFromRuntime(int signo)
    {
        if (Interlocked.Increment(ref _signalCounts[signo]) != 1) return;   // a dispatch is already on its way
        try { Post(_dispatchSignalsAction, null); }
        catch (ObjectDisposedException) { }
    }

    private void DispatchSignals()
    {
        if (_signalSubs is null) return;
        for (int signo = 1; signo <= 64; signo++)
        {
            if (Volatile.Read(ref _signalCounts[signo]) == 0) continue;
            int count = Interlocked.Exchange(ref _signalCounts[signo], 0);
            if (count == 0) continue;
            var ev = new SignalEvent(signo, count);
            // Snapshot semantics without allocating: a subscription cancelled by an earlier callback is skipped,
            // one added during dispatch waits for the next delivery.
            int n = _signalSubs.Count;
            for (int i = 0; i < n && i < _signalSubs.Count; i++)
            {
                var s = _signalSubs[i];
                if (s.Number != signo || !s.Active) continue;
                Invoke(s.Callback, this, ev);
                if (i < _signalSubs.Count && !ReferenceEquals(_signalSubs[i], s)) i--;   // s was removed
            }
        }
    }

    private unsafe void UpdateSignalFd(int signo, bool add)
    {
        byte* set = stackalloc byte[Libc.SigSetBytes];
        Libc.SigEmptySet(set);
        if (_signalSubs is not null)
            foreach (var s in _signalSubs) if (s.Active && (add || s.Number != signo)) Libc.SigAddSet(set, s.Number);
        if (add) Libc.SigAddSet(set, signo);
        bool empty = true;
        for (int i = 1; i <= 64 && empty; i++) if (Libc.SigIsMember(set, i) == 1) empty = false;

        if (empty)
        {
            _signalFdWatch?.Cancel();
            _signalFdWatch = null;
            if (_signalFd >= 0) { Libc.Close(_signalFd); _signalFd = -1; }
            return;
        }
        if (_signalFd < 0)
        {
            int fd = Libc.SignalFd(-1, set, Libc.SFD_CLOEXEC | Libc.SFD_NONBLOCK);
            if (fd < 0) throw new LinuxEventException(Libc.LastErrno, $"signalfd(-1, signo={signo})");
            try { _signalFdWatch = Backend.WatchReadable(fd, static s => ((Loop)s!).ReadSignalFd(), this); }
            catch { Libc.Close(fd); throw; }
            _signalFd = fd;
        }
        else if (Libc.SignalFd(_signalFd, set, 0) < 0)
        {
            throw new LinuxEventException(Libc.LastErrno, $"signalfd(fd={_signalFd}, signo={signo})");
        }
    }

    private unsafe void ReadSignalFd()
    {
        // struct signalfd_siginfo is 128 bytes with ssi_signo (u32) first; read until EAGAIN.
        byte* buf = stackalloc byte[128 * 16];
        bool any = false;
        while (true)
        {
            nint n = Libc.Read(_signalFd, buf, 128 * 16);
            if (n <= 0)
            {
                if (n < 0 && Libc.LastErrno == Errno.EINTR) continue;
                break;
            }
            for (int off = 0; off + 128 <= n; off += 128)
            {
                uint signo = *(uint*)(buf + off);
                if (signo is < 1 or > 64) continue;
                // A process-directed signal is pending for a moment before the kernel's chosen thread takes it, and reading
                // the signalfd then dequeues it: the runtime's handlers (the Generic Host's SIGTERM, any other
                // PosixSignalRegistration) would never see it. Hand it to the runtime's signal thread instead, whose
                // dispatch reaches every handler, ours included (SignalHub fans it out to every subscribed loop).
                if (SignalHub.ForwardToRuntime((int)signo)) continue;
                // Nobody else can take it (no runtime signal thread that accepts it): every subscribed loop gets it here.
                SignalHub.DeliverFromSignalFd(this, (int)signo);
                any = true;
            }
        }
        if (any) DispatchSignals();
    }

    private void DisposeSignals()
    {
        if (_signalSubs is not null)
        {
            foreach (var s in _signalSubs)
            {
                if (!s.Active) continue;
                s.Active = false;
            }
            var numbers = new HashSet<int>();
            foreach (var s in _signalSubs) numbers.Add(s.Number);
            foreach (int n in numbers) SignalHub.Remove(this, n);
            _signalSubs.Clear();
        }
        _signalFdWatch?.Cancel();
        _signalFdWatch = null;
        if (_signalFd >= 0) { Libc.Close(_signalFd); _signalFd = -1; }
    }

    private void DisposeAdaptors()
    {
        DisposeSignals();
        DisposeProcessWatches();
    }
}
