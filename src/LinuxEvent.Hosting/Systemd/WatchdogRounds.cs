using System.Globalization;

namespace LinuxEvent.Hosting.Systemd;

/// <summary>
/// Turns per-loop heartbeats into systemd watchdog pings: a round ends, and one ping is due, when every loop has
/// checked in since the previous ping. Each loop checks in from a timer every half of <c>WATCHDOG_USEC</c>, so while
/// all loops run the pings come at least that often; a loop stuck in a callback (or dead) never checks in, the round
/// never ends, the pings stop, and systemd acts on <c>WatchdogSec=</c>. Thread-safe; the lock is taken once per loop per
/// period, never on an I/O path.
/// </summary>
internal sealed class WatchdogRounds
{
    private readonly object _lock = new();
    private readonly long[] _seenRound;
    private long _round;
    private int _missing;

    public WatchdogRounds(int loops)
    {
        _seenRound = new long[loops];
        Array.Fill(_seenRound, -1);
        _missing = loops;
    }

    /// <summary>Rounds completed (pings due) so far.</summary>
    public long Completed
    {
        get { lock (_lock) return _round; }
    }

    /// <summary>Loop <paramref name="index"/> is alive. True when this completes the round: the caller sends the ping.</summary>
    public bool CheckIn(int index)
    {
        lock (_lock)
        {
            if (_seenRound[index] == _round) return false;
            _seenRound[index] = _round;
            if (--_missing > 0) return false;
            _round++;
            _missing = _seenRound.Length;
            return true;
        }
    }

    /// <summary>
    /// The ping period (half of <c>WATCHDOG_USEC</c>, as sd_watchdog_enabled(3) advises), or null when the watchdog is
    /// off for this process: unset, zero, malformed, or <c>WATCHDOG_PID</c> names another process.
    /// </summary>
    public static TimeSpan? Period(string? watchdogUsec, string? watchdogPid, int pid)
    {
        if (string.IsNullOrEmpty(watchdogUsec)) return null;
        if (!ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0) return null;
        if (!string.IsNullOrEmpty(watchdogPid)
            && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int forPid) || forPid != pid)) return null;
        // Capped at a day: a larger value means "effectively never" and would overflow TimeSpan arithmetic.
        ulong half = Math.Min(usec / 2, 86_400_000_000UL);
        return TimeSpan.FromMicroseconds(Math.Max(half, 1));
    }
}
