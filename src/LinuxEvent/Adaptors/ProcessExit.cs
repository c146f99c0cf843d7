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
