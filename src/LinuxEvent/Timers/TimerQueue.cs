namespace LinuxEvent.Timers;

/// <summary>
/// Binary min-heap of timers ordered by (deadline, sequence). The sequence is a per-loop counter taken at
/// scheduling time, so equal deadlines come out in scheduling order (the Perl prior art fired them in
/// reverse). Each handle stores its heap index, so removal is O(log n) with no scan.
/// </summary>
internal sealed class TimerQueue
{
    private TimerHandle[] _heap = new TimerHandle[64];
    private int _count;

    public int Count => _count;

    public TimerHandle? Peek() => _count == 0 ? null : _heap[0];

    private static bool Less(TimerHandle a, TimerHandle b)
        => a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    public void Insert(TimerHandle t)
    {
        if (_count == _heap.Length) Array.Resize(ref _heap, _count * 2);
        _heap[_count] = t;
        t.HeapIndex = _count;
        _count++;
        SiftUp(t.HeapIndex);
    }

    public TimerHandle PopMin()
    {
        var top = _heap[0];
        RemoveAt(0);
        return top;
    }

    public void Remove(TimerHandle t)
    {
        int i = t.HeapIndex;
        if (i < 0 || i >= _count || !ReferenceEquals(_heap[i], t)) return;
        RemoveAt(i);
    }

    private void RemoveAt(int i)
    {
        var removed = _heap[i];
        _count--;
        if (i != _count)
        {
            _heap[i] = _heap[_count];
            _heap[i].HeapIndex = i;
            _heap[_count] = null!;
            if (!SiftUp(i)) SiftDown(i);
        }
        else
        {
            _heap[_count] = null!;
        }
        removed.HeapIndex = -1;
    }

    private bool SiftUp(int i)
    {
        bool moved = false;
        var t = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Less(t, _heap[parent])) break;
            _heap[i] = _heap[parent];
            _heap[i].HeapIndex = i;
            i = parent;
            moved = true;
        }
        _heap[i] = t;
        t.HeapIndex = i;
        return moved;
    }

    private void SiftDown(int i)
    {
        var t = _heap[i];
        while (true)
        {
            int l = 2 * i + 1;
            if (l >= _count) break;
            int r = l + 1;
            int m = r < _count && Less(_heap[r], _heap[l]) ? r : l;
            if (!Less(_heap[m], t)) break;
            _heap[i] = _heap[m];
            _heap[i].HeapIndex = i;
            i = m;
        }
        _heap[i] = t;
        t.HeapIndex = i;
    }

    /// <summary>A copy of the scheduled timers, in heap order (disposal only).</summary>
    public TimerHandle[] Snapshot() => _heap.AsSpan(0, _count).ToArray();

    /// <summary>Drops every timer (used on dispose).</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++) { _heap[i].HeapIndex = -1; _heap[i] = null!; }
        _count = 0;
    }
}
