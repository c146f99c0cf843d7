namespace LinuxEvent;

/// <summary>Interest and mode of a <see cref="Watcher"/>.</summary>
[Flags]
public enum WatchOptions
{
    /// <summary>No interest yet (errors and hang-ups are still reported).</summary>
    None = 0,
    /// <summary>Report readability (EPOLLIN).</summary>
    Read = 1,
    /// <summary>Report writability (EPOLLOUT).</summary>
    Write = 2,
    /// <summary>Edge-triggered (EPOLLET): report transitions only; the callback must drain until EAGAIN.</summary>
    EdgeTriggered = 4,
    /// <summary>One-shot (EPOLLONESHOT): after one report the watcher is disarmed until an Enable* call re-arms it.</summary>
    OneShot = 8,
}
