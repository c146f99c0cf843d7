namespace LinuxEvent.Hosting;

/// <summary>
/// systemd integration of the hosted loops. Each part acts only when systemd (or a launcher that speaks its protocol)
/// set the matching environment variables, so the defaults are safe outside systemd.
/// </summary>
public sealed class LinuxEventSystemdOptions
{
    /// <summary>
    /// Take the sockets passed with <c>LISTEN_FDS</c>/<c>LISTEN_PID</c>/<c>LISTEN_FDNAMES</c> (socket activation), as
    /// sd_listen_fds(3) with <c>unset_environment</c> does: only when <c>LISTEN_PID</c> is this process, fds from 3 on,
    /// made close-on-exec, and the three variables removed from the environment so child processes do not inherit
    /// them. They are offered to every loop as <see cref="HostedLoop.ActivatedSockets"/>. Default true.
    /// </summary>
    public bool SocketActivation { get; set; } = true;

    /// <summary>
    /// Send <c>READY=1</c> once every loop runs and the host has started, and <c>STOPPING=1</c> when the host begins
    /// to stop, to <c>NOTIFY_SOCKET</c> (a path or an abstract <c>@name</c>). When the host's lifetime is
    /// Microsoft.Extensions.Hosting.Systemd's <c>SystemdLifetime</c> (<c>UseSystemd()</c> under systemd), that lifetime
    /// already sends both and this package does not repeat them. Default true.
    /// </summary>
    public bool Notify { get; set; } = true;

    /// <summary>
    /// Send <c>WATCHDOG=1</c> at half of <c>WATCHDOG_USEC</c> (when <c>WATCHDOG_PID</c>, if set, is this process).
    /// The pings come from the loops themselves: each loop checks in from a timer, and a ping is sent only once every
    /// loop has checked in since the previous one, so one stuck loop stops the pings and systemd's
    /// <c>WatchdogSec=</c> restarts the service. Default true.
    /// </summary>
    public bool Watchdog { get; set; } = true;
}
