namespace LinuxEvent.Reactor;

internal sealed partial class ReactorIoDriver
{
    // Write coalescing: a stream channel written to from a callback queues the bytes and joins this list once; the loop
    // hands each listed channel's queue to the kernel in one send(2) at the end of the iteration. A list of the
    // channels (grown by doubling, never shrunk) rather than a Defer per write: no allocation and no deferred-ring slot
    // per write, and the flush runs after everything the iteration's callbacks wrote, deferred ones included.
    private ReactorStreamChannel?[] _flushList = new ReactorStreamChannel?[16];
    private int _flushCount;

    /// <summary>Whether stream writes made on the loop thread wait for the end of the iteration
    /// (<see cref="ReactorOptions.CoalesceWrites"/>).</summary>
    internal bool CoalesceWrites { get; set; } = true;

    /// <summary>Channels waiting for the end-of-iteration flush (for tests).</summary>
    internal int PendingFlushCount => _flushCount;

    /// <summary>Lists <paramref name="channel"/> for the end-of-iteration flush (the channel marks itself, so once).</summary>
    internal void QueueFlush(ReactorStreamChannel channel)
    {
        if (_flushCount == _flushList.Length) Array.Resize(ref _flushList, _flushList.Length * 2);
        _flushList[_flushCount++] = channel;
    }

    /// <summary>The end of an iteration, or before a wait: every listed channel sends what was written to it, in one call
    /// each.</summary>
    public override void FlushWrites()
    {
        if (_flushCount == 0) return;
        // A flush may complete a drain whose handler writes again (to this or another stream): those join the list
        // and go out in this same pass, so nothing written is left waiting for a wakeup that may never come.
        for (int i = 0; i < _flushCount; i++)
        {
            var channel = _flushList[i]!;
            _flushList[i] = null;
            channel.FlushCoalesced();
        }
        _flushCount = 0;
    }
}
