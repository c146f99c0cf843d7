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
    /// <summary>
    /// Exclusive wakeup (EPOLLEXCLUSIVE): when several loops (epoll instances) watch the same file, for example one
    /// listening socket shared by the loops of a <see cref="LoopGroup"/>, an event wakes one or more of them instead of
    /// all (the kernel adds the registration to the file's wait queue as an exclusive waiter). The kernel allows it
    /// only when the registration is added: changing the interest of such a watcher while it keeps some
    /// (<see cref="Watcher.EnableWrite"/> with read on, <see cref="Watcher.SetInterest"/> with one side left) would be
    /// an EPOLL_CTL_MOD, which fails with EINVAL, so it throws <see cref="InvalidOperationException"/> instead;
    /// disabling every direction removes the registration and enabling one again adds it anew, which is allowed.
    /// Not with <see cref="OneShot"/> (re-arming is a MOD). Watching the fd again replaces the registration (DEL, then ADD).
    /// </summary>
    Exclusive = 16,
}
