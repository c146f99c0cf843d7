namespace LinuxEvent.Seam;

/// <summary>
/// The one mechanism behind <see cref="LoopBackend.WatchReadable"/> on every backend: the watches of the fds the loop
/// itself owns (signalfd, pidfd). The table hands out ids and tokens, finds a watch from the token a kernel event
/// carries, runs callbacks and frees entries; an <see cref="IKernel"/> arms and disarms them in the backend's kernel
/// object (an epoll set, or multishot POLL_ADD requests on an io_uring ring).
/// </summary>
/// <remarks>
/// A token is <c>tag (bits 56..63) | generation (bits 24..55) | id (bits 0..23)</c>. The tag separates internal watches
/// from everything else a backend's events carry; the generation is fresh for every watch, so a late event for a
/// released id never reaches the watch that reuses the id.
/// </remarks>
internal sealed class InternalWatchTable
{
    /// <summary>The kernel half: arm an entry (throw with nothing armed on failure) and disarm it.</summary>
    internal interface IKernel
    {
        /// <summary>Registers <paramref name="entry"/>'s fd for readability under its token.</summary>
        void Arm(Entry entry);

        /// <summary>Removes the registration. Returns true if the entry can be released now, false if the kernel
        /// still owes a final event for it (the backend then calls <see cref="Release"/> when that arrives).</summary>
        bool Disarm(Entry entry);
    }

    /// <summary>One watch.</summary>
    internal sealed class Entry(InternalWatchTable table, int id, int fd, ulong token, Action<object?> callback, object? state) : InternalWatch
    {
        public readonly int Id = id;
        public readonly int Fd = fd;
        public readonly ulong Token = token;
        public readonly Action<object?> Callback = callback;
        public readonly object? State = state;
        public bool Cancelled, Released;
        /// <summary>Kernel-side state for backends that re-arm (io_uring: a multishot poll is in flight).</summary>
        public bool Armed;
        /// <summary>Consecutive failed re-arms (io_uring).</summary>
        public int Failures;

        public override void Cancel() => table.Cancel(this);
    }

    public const ulong TagMask = 0xFFUL << 56;
    private const ulong IdMask = 0xFF_FFFF;
    private static uint s_generation;

    private readonly Loop _loop;
    private readonly ulong _tag;
    private readonly List<Entry?> _entries = new();
    private readonly Stack<int> _freeIds = new();
    private IKernel? _kernel;

    public InternalWatchTable(Loop loop, ulong tag, IKernel? kernel = null)
    {
        if ((tag & ~TagMask) != 0) throw new ArgumentOutOfRangeException(nameof(tag), tag, "InternalWatchTable: the tag must fit bits 56..63.");
        _loop = loop;
        _tag = tag;
        _kernel = kernel;
    }

    /// <summary>Sets the kernel half when it is the backend that owns this table (created after it).</summary>
    public IKernel Kernel { set => _kernel = value; }

    /// <summary>Number of entries not yet released (armed or waiting for their final event).</summary>
    public int Count { get; private set; }

    public InternalWatch Add(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        int id;
        if (_freeIds.Count > 0) id = _freeIds.Pop();
        else
        {
            id = _entries.Count;
            if (id > (int)IdMask) throw new InvalidOperationException("Too many internal fd watches.");
            _entries.Add(null);
        }
        uint gen = Interlocked.Increment(ref s_generation);
        var entry = new Entry(this, id, fd, _tag | ((ulong)gen << 24) | (uint)id, callback, state);
        _entries[id] = entry;
        Count++;
        try
        {
            _kernel!.Arm(entry);
        }
        catch
        {
            entry.Cancelled = true;
            Release(entry);
            throw;
        }
        return entry;
    }

    /// <summary>True if <paramref name="token"/> carries this table's tag.</summary>
    public bool IsMine(ulong token) => (token & TagMask) == _tag;

    /// <summary>The live entry a token names, or null for a stale token.</summary>
    public Entry? Find(ulong token)
    {
        int id = (int)(token & IdMask);
        return (uint)id < (uint)_entries.Count && _entries[id] is { } e && e.Token == token ? e : null;
    }

    /// <summary>Runs the watch's callback unless it was cancelled (the callback may cancel it).</summary>
    public void Fire(Entry entry)
    {
        if (!entry.Cancelled) _loop.Invoke(entry.Callback, entry.State);
    }

    /// <summary>Runs the callback for <paramref name="token"/> if it is one of ours; false if it belongs to someone else.</summary>
    public bool TryDispatch(ulong token)
    {
        if (!IsMine(token)) return false;
        if (Find(token) is { } e) Fire(e);
        return true;
    }

    /// <summary>True if a watch that is not cancelled covers <paramref name="fd"/>.</summary>
    public bool ContainsFd(int fd)
    {
        foreach (var e in _entries)
            if (e is { Cancelled: false } && e.Fd == fd) return true;
        return false;
    }

    private void Cancel(Entry entry)
    {
        if (entry.Cancelled) return;
        entry.Cancelled = true;
        if (entry.Released) return;
        if (_kernel!.Disarm(entry)) Release(entry);
    }

    /// <summary>Frees the entry's id. Idempotent.</summary>
    public void Release(Entry entry)
    {
        if (entry.Released) return;
        entry.Released = true;
        entry.Armed = false;
        Count--;
        if ((uint)entry.Id < (uint)_entries.Count && ReferenceEquals(_entries[entry.Id], entry))
        {
            _entries[entry.Id] = null;
            _freeIds.Push(entry.Id);
        }
    }

    /// <summary>The entries not yet released (a snapshot: callers may release while iterating).</summary>
    public Entry[] Snapshot()
    {
        var list = new List<Entry>(Count);
        foreach (var e in _entries) if (e is { Released: false }) list.Add(e);
        return list.ToArray();
    }

    /// <summary>Marks every watch cancelled and released, without touching the kernel (its object is going away).</summary>
    public void ReleaseAll()
    {
        foreach (var e in Snapshot())
        {
            e.Cancelled = true;
            Release(e);
        }
    }
}
