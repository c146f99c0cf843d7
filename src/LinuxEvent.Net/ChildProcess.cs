namespace LinuxEvent.Net;

/// <summary>
/// A child process started with posix_spawn (never fork in a .NET process), watched through a pidfd, with its stdio
/// as pipes wrapped in <see cref="LoopStream"/>s. Works on either loop model. Loop-thread only.
/// </summary>
/// <remarks>
/// <para><b>Exit.</b> The exit (<see cref="ProcessExit"/>: code, or signal) is reported — <see cref="OnExit"/>, then
/// <see cref="Completion"/> — once the process has ended <i>and</i> its piped stdout and stderr have reached EOF as seen
/// by their reader, so every byte of output is delivered before the exit. A piped output must therefore be read
/// (<see cref="LoopStream.Start"/> or async reads) or closed. A grandchild that inherited the pipe and outlives the
/// child delays the report until it closes it. When the exit is reported a still open stdin stream is closed.</para>
/// <para><b>Reaping.</b> The child is reaped by the loop's pidfd watch (waitid on that pidfd only), so no zombie is
/// left and no other child is touched. Signals go through the pidfd (pidfd_send_signal), which can never hit a
/// recycled pid.</para>
/// <para><b>Exec failure</b> (missing program, not executable) is reported by <see cref="Start"/> as a
/// <see cref="LinuxEventException"/> (ENOENT, EACCES...), not as exit code 127.</para>
/// <para><b>Loop disposal</b> before the exit is known: <see cref="Completion"/> faults with
/// <see cref="ObjectDisposedException"/> naming the loop (so nothing awaits forever), <see cref="OnExit"/> never runs,
/// and the pipe streams close with <see cref="CloseReason.LoopDisposed"/>. The process itself is not signalled: it keeps
/// running, and once it exits nobody reaps it; <see cref="Kill(int)"/> it before disposing the loop if that matters. A child
/// that has exited and was only waiting for its outputs' EOF is reported at disposal (output not yet read is lost). A
/// child still queued in a <see cref="ProcessPool"/> is never started.</para>
/// </remarks>
public sealed class ChildProcess : LoopComponent, IDisposable
{
    private Exception? _loopDisposed;     // set when the loop was disposed before the exit was reported
    private readonly Loop _loop;
    private readonly ProcessSpec _spec;
    internal ProcessPool? Pool;
    private PidSubscription? _watch;
    private TimerHandle? _timeoutTimer, _killTimer;
    private int _openOutputs;
    private ProcessExit? _exit;
    private bool _reported;
    private TaskCompletionSource<ProcessExit>? _completion;

    private ChildProcess(Loop loop, ProcessSpec spec) : base(loop)
    {
        _loop = loop;
        _spec = spec;
    }

    /// <summary>
    /// Starts <paramref name="spec"/> now. <paramref name="onExit"/> (or <see cref="OnExit"/>, settable until the exit
    /// is reported) receives the exit. Set the output streams' handlers and call their <c>Start</c> right after this
    /// returns: nothing is delivered before the loop's next dispatch.
    /// </summary>
    /// <exception cref="LinuxEventException">The spawn failed: ENOENT (program not found), EACCES, ENOEXEC, E2BIG,
    /// EMFILE...; nothing is left open.</exception>
    public static ChildProcess Start(Loop loop, ProcessSpec spec, Action<ChildProcess, ProcessExit>? onExit = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(spec);
        LoopDisposal.ThrowIfDisposed(loop, "ChildProcess.Start");    // before a process exists that nothing would watch
        var child = new ChildProcess(loop, spec) { OnExit = onExit };
        child.Spawn();
        child.Attach();
        return child;
    }

    internal static ChildProcess CreateQueued(Loop loop, ProcessSpec spec, ProcessPool pool)
    {
        LoopDisposal.ThrowIfDisposed(loop, "ProcessPool.Enqueue");
        var child = new ChildProcess(loop, spec) { Pool = pool };
        child.Attach();
        return child;
    }

    /// <summary>The loop is being disposed before the exit was reported: nothing will report it now.</summary>
    protected override void OnLoopDisposing()
    {
        if (_reported || StartError is not null) return;
        if (_exit is not null)
        {
            // Already exited, only waiting for its outputs' EOF, which will not come now: report the exit as it is.
            _openOutputs = 0;
            MaybeReport();
            return;
        }
        _loopDisposed = LoopDisposal.PendingCallFailed(_loop, "ChildProcess.Completion");
        _completion?.TrySetException(_loopDisposed);
    }

    internal void Attach() => AttachToLoop();

    /// <summary>What was run.</summary>
    public ProcessSpec Spec => _spec;

    /// <summary>The process id (0 while queued in a <see cref="ProcessPool"/>).</summary>
    public int Pid { get; private set; }

    /// <summary>True once spawned.</summary>
    public bool HasStarted => Pid != 0;

    /// <summary>The write end of the child's stdin (null unless <see cref="ProcessSpec.Stdin"/> is Pipe). Close it
    /// (<see cref="LoopStream.CloseAfterDrain"/>) to send EOF.</summary>
    public LoopStream? Stdin { get; private set; }

    /// <summary>The read end of the child's stdout (null unless Pipe).</summary>
    public LoopStream? Stdout { get; private set; }

    /// <summary>The read end of the child's stderr (null unless Pipe).</summary>
    public LoopStream? Stderr { get; private set; }

    /// <summary>Receives the exit, once (see the class remarks for when).</summary>
    public Action<ChildProcess, ProcessExit>? OnExit { get; set; }

    /// <summary>Pool only: the deferred spawn of a queued child failed (the exit is never reported; <see cref="Completion"/> faults).</summary>
    public Action<ChildProcess, Exception>? OnStartError { get; set; }

    /// <summary>Free slot for the owner.</summary>
    public object? Data { get; set; }

    /// <summary>The exit, once reported.</summary>
    public ProcessExit? Exit => _reported ? _exit : null;

    /// <summary>True once the exit was reported.</summary>
    public bool HasExited => _reported;

    /// <summary>True if the <see cref="ProcessSpec.Timeout"/> expired and the child was signalled.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>A task completing with the exit when it is reported (faulted if a pooled spawn failed, or with
    /// <see cref="ObjectDisposedException"/> if the loop was disposed first).</summary>
    public Task<ProcessExit> Completion
    {
        get
        {
            if (_completion is null)
            {
                _completion = new TaskCompletionSource<ProcessExit>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_reported) _completion.TrySetResult(_exit!.Value);
                else if ((StartError ?? _loopDisposed) is { } e) _completion.TrySetException(e);
            }
            return _completion.Task;
        }
    }

    /// <summary>Why a pooled spawn failed.</summary>
    public Exception? StartError { get; private set; }

    /// <summary>
    /// Sends <paramref name="signal"/> (default SIGTERM) through the pidfd. Returns false if the process has already
    /// been reaped (or is still queued). Loop-thread only.
    /// </summary>
    /// <exception cref="LinuxEventException">pidfd_send_signal failed for another reason (EINVAL: bad signal).</exception>
    public bool Kill(int signal = 15)
    {
        var watch = _watch;
        if (watch is null || !watch.IsActive) return false;
        try
        {
            watch.SendSignal(signal);
            return true;
        }
        catch (LinuxEventException ex) when (ex.Errno == Errno.ESRCH)
        {
            return false;        // exited between our check and the signal
        }
    }

    /// <summary>Sends <paramref name="signal"/> through the pidfd; see <see cref="Kill(int)"/>.</summary>
    public bool Kill(System.Runtime.InteropServices.PosixSignal signal) => Kill(Posix.SignalNumber(signal));

    /// <summary>
    /// For <c>using</c>: a child scoped to a block does not outlive it. If the process is still running it is killed
    /// (SIGKILL) and its stdio streams are closed; the loop still reaps it (<see cref="OnExit"/> and
    /// <see cref="Completion"/> report the exit as usual). A child that has already exited is left as it is. Loop thread.
    /// </summary>
    public void Dispose()
    {
        if (_reported) return;
        Kill(9);
        Stdin?.Close();
        Stdout?.Close();
        Stderr?.Close();
    }

    /// <inheritdoc />
    public override string ToString() => $"ChildProcess({_spec.Program}, pid={Pid}{(_reported ? ", " + _exit : "")})";

    // ------------------------------------------------------------------ spawn

    internal void Spawn()
    {
        var spec = _spec;
        ValidateBeforeSpawn(spec);
        var toClose = new List<int>(6);      // child-side ends and /dev/null: closed in the parent after the spawn
        var fdMap = new List<(int, int)>(3);
        int stdinW = -1, stdoutR = -1, stderrR = -1;
        int pid;
        try
        {
            stdinW = Plumb(spec.Stdin, 0, parentWrites: true, toClose, fdMap);
            stdoutR = Plumb(spec.Stdout, 1, parentWrites: false, toClose, fdMap);
            stderrR = Plumb(spec.Stderr, 2, parentWrites: false, toClose, fdMap);
            var (program, arguments) = spec.Umask is { } umask
                ? ("/bin/sh", (IReadOnlyList<string>)[
                    "-c", $"umask {Convert.ToString((int)umask & 0x1FF, 8)} && exec \"$0\" \"$@\"", spec.Program, .. spec.Arguments])
                : (spec.Program, spec.Arguments);
            pid = Posix.Spawn(program, arguments, BuildEnvironment(spec), spec.WorkingDirectory, fdMap, spec.NewProcessGroup);
        }
        catch
        {
            foreach (int fd in toClose) Posix.CloseQuietly(fd);
            foreach (int fd in (ReadOnlySpan<int>)[stdinW, stdoutR, stderrR]) if (fd >= 0) Posix.CloseQuietly(fd);
            throw;
        }
        foreach (int fd in toClose) Posix.CloseQuietly(fd);
        Pid = pid;

        try
        {
            _watch = _loop.WatchProcess(pid, (_, exit) => OnProcessExited(exit));
        }
        catch
        {
            // Without a pidfd we cannot reap it: do not leave an unsupervised child behind. It stays a zombie until
            // this process exits, which is the lesser evil; the error tells the caller why.
            try { Posix.Kill(pid, 9); } catch (Exception e) when (e is ILinuxEventError) { }
            foreach (int fd in (ReadOnlySpan<int>)[stdinW, stdoutR, stderrR]) if (fd >= 0) Posix.CloseQuietly(fd);
            throw;
        }

        var baseOptions = spec.StreamOptions ?? LoopStreamOptions.Default;
        if (stdinW >= 0) Stdin = new LoopStream(_loop, stdinW, PipeOptions(baseOptions));
        if (stdoutR >= 0) Stdout = WatchOutput(new LoopStream(_loop, stdoutR, PipeOptions(baseOptions)));
        if (stderrR >= 0) Stderr = WatchOutput(new LoopStream(_loop, stderrR, PipeOptions(baseOptions)));
        if (spec.Timeout is { } timeout)
            _timeoutTimer = _loop.After(timeout, this, static (_, c) => c.OnTimeout());
    }

    /// <summary>
    /// Everything that could make the post-spawn setup throw is checked before the child exists: a throw after
    /// posix_spawn would leave a running, unsupervised child and its pipes behind.
    /// </summary>
    private static void ValidateBeforeSpawn(ProcessSpec spec)
    {
        if (spec.Timeout is { } t && t < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(spec), t, "ProcessSpec.Timeout must not be negative.");
        if (spec.KillGracePeriod < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.KillGracePeriod, "ProcessSpec.KillGracePeriod must not be negative.");
        if (spec.TimeoutSignal is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(spec), spec.TimeoutSignal, "ProcessSpec.TimeoutSignal must be a signal number (1..64).");
        PipeOptions(spec.StreamOptions ?? LoopStreamOptions.Default).Validate();
    }

    private LoopStream WatchOutput(LoopStream stream)
    {
        _openOutputs++;
        stream.EndReached = _ => { _openOutputs--; MaybeReport(); };
        return stream;
    }

    private static LoopStreamOptions PipeOptions(LoopStreamOptions o) => o with { OwnsFd = true, FdKind = StreamFdKind.File };

    /// <summary>Sets up one stdio slot; returns the parent's pipe end (or -1).</summary>
    private static int Plumb(StdioMode mode, int childFd, bool parentWrites, List<int> toClose, List<(int, int)> fdMap)
    {
        switch (mode)
        {
            case StdioMode.Inherit:
                return -1;
            case StdioMode.Null:
            {
                int fd = Posix.OpenDevNull();
                toClose.Add(fd);
                fdMap.Add((fd, childFd));
                return -1;
            }
            default:
            {
                // Blocking pipe, then only the parent's end made non-blocking: O_NONBLOCK lives in the open file
                // description, and a child handed a non-blocking stdio fails with EAGAIN (cat: "Resource temporarily
                // unavailable").
                var (r, w) = Posix.Pipe(nonBlocking: false);
                int parent = parentWrites ? w : r, child = parentWrites ? r : w;
                toClose.Add(child);
                try { Posix.SetNonBlocking(parent, true); }
                catch { Posix.CloseQuietly(parent); throw; }
                fdMap.Add((child, childFd));
                return parent;
            }
        }
    }

    private static List<string>? BuildEnvironment(ProcessSpec spec)
    {
        if (spec.Environment is null && !spec.ClearEnvironment) return null;       // inherit as is
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!spec.ClearEnvironment)
            foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
                env[(string)e.Key] = (string?)e.Value ?? "";
        if (spec.Environment is not null)
            foreach (var (k, v) in spec.Environment)
            {
                if (k.Length == 0 || k.Contains('=')) throw new ArgumentException($"ChildProcess: invalid environment variable name '{k}'.", nameof(spec));
                if (v is null) env.Remove(k); else env[k] = v;
            }
        return env.Select(kv => kv.Key + "=" + kv.Value).ToList();
    }

    // ------------------------------------------------------------------ lifecycle

    private void OnTimeout()
    {
        _timeoutTimer = null;
        if (_exit is not null) return;
        TimedOut = true;
        if (!Kill(_spec.TimeoutSignal)) return;
        _killTimer = _loop.After(_spec.KillGracePeriod, this, static (_, c) => { c._killTimer = null; if (c._exit is null) c.Kill(9); });
    }

    private void OnProcessExited(ProcessExit exit)
    {
        _exit = exit;
        _watch = null;
        _timeoutTimer?.Cancel();
        _timeoutTimer = null;
        _killTimer?.Cancel();
        _killTimer = null;
        MaybeReport();
    }

    private void MaybeReport()
    {
        // After a disposal that found no exit, nothing is reported any more (Completion has faulted).
        if (_reported || _exit is null || _openOutputs > 0 || _loopDisposed is not null) return;
        _reported = true;
        DetachFromLoop();
        if (Stdin is { IsClosed: false } stdin) stdin.Close();     // nobody can read it any more
        var exit = _exit.Value;
        var onExit = OnExit;
        if (onExit is not null)
        {
            try { onExit(this, exit); } catch (Exception ex) { _loop.ReportException(ex); }
        }
        _completion?.TrySetResult(exit);
        Pool?.OnChildFinished(this);
    }

    internal void FailStart(Exception error)
    {
        StartError = error;
        DetachFromLoop();
        _completion?.TrySetException(error);
        var handler = OnStartError;
        if (handler is null) { _loop.ReportException(error); return; }
        try { handler(this, error); } catch (Exception ex) { _loop.ReportException(ex); }
    }
}
