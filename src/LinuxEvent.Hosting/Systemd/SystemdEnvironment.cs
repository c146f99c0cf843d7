namespace LinuxEvent.Hosting.Systemd;

/// <summary>
/// The notify and watchdog variables as they were when the loops were registered (AddLinuxEventLoops), before the
/// host was built. Microsoft.Extensions.Hosting.Systemd's notifier removes NOTIFY_SOCKET from the environment when
/// the host is built (as sd_notify's unset_environment does, so children do not inherit it); reading it only at
/// start would then find nothing, and the watchdog pings would silently never be sent.
/// </summary>
internal sealed class SystemdEnvironment
{
    private readonly string? _notifySocket, _watchdogUsec, _watchdogPid;

    private SystemdEnvironment(string? notifySocket, string? watchdogUsec, string? watchdogPid)
    {
        _notifySocket = notifySocket;
        _watchdogUsec = watchdogUsec;
        _watchdogPid = watchdogPid;
    }

    public static SystemdEnvironment Capture() => new(Get("NOTIFY_SOCKET"), Get("WATCHDOG_USEC"), Get("WATCHDOG_PID"));

    /// <summary>The current value when set, else the captured one.</summary>
    public string? NotifySocket => Get("NOTIFY_SOCKET") ?? _notifySocket;

    public string? WatchdogUsec => Get("WATCHDOG_USEC") ?? _watchdogUsec;

    public string? WatchdogPid => Get("WATCHDOG_PID") ?? _watchdogPid;

    private static string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
