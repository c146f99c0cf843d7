namespace LinuxEvent.Seam;

/// <summary>
/// A table indexed by fd number, growing to the largest fd seen: the one shape behind the loop's per-fd state
/// (reactor watchers, async I/O state, registrations). Fd numbers are small and dense (the kernel always hands out the
/// lowest free one), so an array beats a dictionary: no hashing on the hot path and no allocation once grown.
/// </summary>
internal sealed class FdTable<T> where T : class
{
    private T?[] _items = new T?[64];

    /// <summary>The entry of <paramref name="fd"/>, or null (also for numbers beyond the table).</summary>
    public T? this[int fd] => (uint)fd < (uint)_items.Length ? _items[fd] : null;

    /// <summary>Sets the entry of <paramref name="fd"/> (non-negative), growing the table as needed.</summary>
    public void Set(int fd, T? value)
    {
        if (fd >= _items.Length)
        {
            if (value is null) return;
            int n = _items.Length;
            while (n <= fd) n *= 2;
            Array.Resize(ref _items, n);
        }
        _items[fd] = value;
    }

    /// <summary>The entry of <paramref name="fd"/>, created by <paramref name="create"/> the first time.</summary>
    public T GetOrAdd(int fd, Func<int, T> create)
    {
        if ((uint)fd < (uint)_items.Length && _items[fd] is { } existing) return existing;
        var item = create(fd);
        Set(fd, item);
        return item;
    }

    /// <summary>Calls <paramref name="action"/> for every entry, in fd order.</summary>
    public void ForEach(Action<T> action)
    {
        var items = _items;
        for (int i = 0; i < items.Length; i++)
            if (items[i] is { } item) action(item);
    }

    /// <summary>Removes every entry.</summary>
    public void Clear() => Array.Clear(_items);
}
