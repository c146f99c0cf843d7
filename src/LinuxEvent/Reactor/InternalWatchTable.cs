using LinuxEvent.Native;

namespace LinuxEvent.Reactor;

/// <summary>
/// The loop's own fds (signalfd, pidfd) registered in an epoll set, level-triggered for readability. Their epoll
/// data is <c>tag | fd</c>, so a backend tells them apart from user registrations with one comparison. Shared by the
/// epoll backend (tag = bit 63) and the fakes' side channel.
/// </summary>
internal sealed class InternalWatchTable(Loop loop, Epoll epoll, ulong tag)
{
    private const ulong FdMask = 0xFFFF_FFFFUL;
    private readonly Dictionary<int, Entry> _entries = new();

    private sealed class Entry(InternalWatchTable table, int fd, Action<object?> callback, object? state) : InternalWatch
    {
        public readonly Action<object?> Callback = callback;
        public readonly object? State = state;
        private bool _cancelled;

        public override void Cancel()
        {
            if (_cancelled) return;
            _cancelled = true;
            table._entries.Remove(fd);
            // ENOENT/EBADF are fine: the owner may already have closed the fd, which removed it from the set.
            table._epoll.Control(Libc.EPOLL_CTL_DEL, fd, 0, 0);
        }
    }

    private readonly Epoll _epoll = epoll;

    public bool Contains(int fd) => _entries.ContainsKey(fd);

    public InternalWatch Add(int fd, Action<object?> callback, object? state)
    {
        int err = _epoll.Control(Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, tag | (uint)fd);
        if (err != 0) throw new LinuxEventException(err, $"epoll_ctl(ADD, fd={fd})");
        var entry = new Entry(this, fd, callback, state);
        _entries[fd] = entry;
        return entry;
    }

    /// <summary>Runs the callback if <paramref name="data"/> is one of ours; false if it belongs to someone else.</summary>
    public bool TryDispatch(ulong data)
    {
        if ((data & ~FdMask) != tag) return false;
        if (_entries.TryGetValue((int)(data & FdMask), out var e)) loop.Invoke(e.Callback, e.State);
        return true;
    }

    public void Clear() => _entries.Clear();
}
