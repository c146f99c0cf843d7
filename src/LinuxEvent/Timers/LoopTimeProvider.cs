namespace LinuxEvent.Timers;

/// <summary>The <see cref="TimeProvider"/> of one loop (see <see cref="Loop.TimeProvider"/> for the contract).</summary>
internal sealed class LoopTimeProvider : TimeProvider
{
    private readonly Loop _loop;
    private readonly DateTimeOffset _utcAtStart;
    private readonly long _clockAtStart;

    public LoopTimeProvider(Loop loop)
    {
        _loop = loop;
        // The fakes' wall clock: the real time now, then moving with the virtual monotonic clock.
        _utcAtStart = DateTimeOffset.UtcNow;
        _clockAtStart = loop.Backend.ReadClock();
    }

    /// <summary>Nanoseconds: the loop's own clock (CLOCK_MONOTONIC, or the fake's virtual clock).</summary>
    public override long TimestampFrequency => 1_000_000_000L;

    /// <summary>The loop's clock read now (not the value cached for the current iteration), so it is exact from any thread.</summary>
    public override long GetTimestamp() => _loop.Backend.ReadClock();

    public override DateTimeOffset GetUtcNow()
        => _loop.IsFake ? _utcAtStart.AddTicks((_loop.Backend.ReadClock() - _clockAtStart) / 100) : DateTimeOffset.UtcNow;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        LoopTimer.Validate(dueTime, nameof(dueTime));
        LoopTimer.Validate(period, nameof(period));
        var timer = new LoopTimer(_loop, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }
}
