using LinuxEvent.Timers;

namespace LinuxEvent;

public abstract partial class Loop
{
    private LoopTimeProvider? _timeProvider;

    /// <summary>
    /// This loop's time as a <see cref="System.TimeProvider"/>, for code that takes one (Polly, caches,
    /// <c>Task.Delay(delay, timeProvider)</c>, <c>CancellationTokenSource(delay, timeProvider)</c>, your own classes).
    /// Its timers fire on the loop thread, from the loop's timer phase, in (deadline, creation) order like
    /// <see cref="After(TimeSpan, Action{Loop})"/>; <see cref="System.TimeProvider.GetTimestamp"/> is the loop's
    /// CLOCK_MONOTONIC in nanoseconds.
    /// </summary>
    /// <remarks>
    /// <para><b>On the fakes</b> it follows the virtual clock: <c>await Task.Delay(TimeSpan.FromHours(1), loop.TimeProvider)</c>
    /// completes at once in real time and the loop's clock has moved an hour; <see cref="System.TimeProvider.GetUtcNow"/> is a
    /// virtual wall clock that starts at the real time the loop was created and moves with the virtual clock.</para>
    /// <para><b>Threads.</b> Creating, changing and disposing its timers is safe from any thread: from the loop thread
    /// it acts at once; from another thread it is posted to the loop. A timer's callback always runs on the loop thread.
    /// Timers still pending when the loop is disposed never fire (their callbacks do not run).</para>
    /// </remarks>
    public TimeProvider TimeProvider => _timeProvider ??= new LoopTimeProvider(this);
}
