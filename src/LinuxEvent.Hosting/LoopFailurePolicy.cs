namespace LinuxEvent.Hosting;

/// <summary>What the host does when a hosted loop ends while the application is not stopping.</summary>
public enum LoopFailurePolicy
{
    /// <summary>
    /// Log the failure as critical, set <see cref="Environment.ExitCode"/> to
    /// <see cref="LinuxEventHostingOptions.FailureExitCode"/> and stop the application
    /// (<c>IHostApplicationLifetime.StopApplication</c>), so a supervisor (systemd, a container runtime) sees a
    /// failed exit and can restart the whole process. The default.
    /// </summary>
    StopApplication,

    /// <summary>
    /// Log the failure, then replace the loop with a new one on a new thread and run the per-loop setup again
    /// (listeners are bound again, activated sockets are shared again). More than
    /// <see cref="LinuxEventHostingOptions.MaxRestarts"/> restarts within
    /// <see cref="LinuxEventHostingOptions.RestartWindow"/>, or a restart whose setup fails, falls back to
    /// <see cref="StopApplication"/>. Connections the dead loop owned are gone: a restart only restores accepting.
    /// </summary>
    Restart,
}
