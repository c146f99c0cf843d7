namespace LinuxEvent.Net;

public sealed partial class LoopStream
{
    // ------------------------------------------------------------------ idle (read) timeout

    /// <summary>The idle timer (LoopStreamOptions.IdleTimeout), made the first time the stream wants input and reused
    /// for the stream's life: pushed back per received chunk (O(1), no allocation: TimerHandle.Restart).</summary>
    private TimerHandle? _idleTimer;

    private static readonly Action<Loop, LoopStream> s_idleExpired = static (_, s) => s.OnIdleExpired();

    /// <summary>The stream now wants input (<paramref name="wanted"/>) or not: the idle timer runs only while it does.</summary>
    private void UpdateIdleTimer(bool wanted)
    {
        var timeout = _options.IdleTimeout;
        if (timeout == Timeout.InfiniteTimeSpan) return;
        var timer = _idleTimer;
        if (wanted)
        {
            if (timer is null) _idleTimer = _loop.After(timeout, this, s_idleExpired);
            else if (!timer.IsActive) timer.Restart(timeout);
        }
        else if (timer is { IsActive: true }) timer.Cancel();
    }

    /// <summary>Input arrived: the idle period starts again.</summary>
    private void RestartIdleTimer()
    {
        if (_idleTimer is { IsActive: true } timer) timer.Restart(_options.IdleTimeout);
    }

    private void OnIdleExpired()
    {
        if (Is(State.Closed) || !WantsRead) return;
        FinishClose(Net.CloseReason.Timeout, new TimeoutException(
            $"LoopStream(fd={Fd}): nothing was received for {_options.IdleTimeout.TotalMilliseconds:0.###} ms (LoopStreamOptions.IdleTimeout); the stream was closed."));
    }

    /// <summary>The stream closed: its idle timer must not keep it (or the loop's timer heap) busy.</summary>
    private void StopIdleTimer() => _idleTimer?.Cancel();
}
