namespace LinuxEvent;

/// <summary>
/// A scheduled timer created by <see cref="Loop.After(TimeSpan, Action{Loop})"/>, <see cref="Loop.At(long, Action{Loop})"/>
/// or <see cref="Loop.Every(TimeSpan, Action{Loop})"/>. Loop-thread only.
/// </summary>
/// <remarks>
/// A handle can be re-armed with <see cref="Restart(TimeSpan)"/> after it fired or was cancelled, which reuses it
/// without allocating: this is the zero-allocation path for timeouts that are set and cleared per request.
/// </remarks>
public sealed class TimerHandle : IDisposable
{
    internal enum TimerState : byte { Idle, Queued, Due, Cancelled }

    internal readonly Loop Loop;
    internal long Deadline;                // where the heap holds it
    internal ulong Sequence;
    // A restart to a later time is recorded here and applied lazily, when the heap entry comes due: an idle timeout
    // pushed back on every message then costs O(1) per restart instead of a heap remove and insert (see RestartTimer).
    internal bool Deferred;
    internal long DeferredDeadline;
    internal ulong DeferredSequence;
    internal long IntervalNs;          // > 0 for Every
    internal int HeapIndex = -1;
    internal TimerState State;
    internal Delegate Callback;
    internal object? CallbackState;

    internal TimerHandle(Loop loop, Delegate callback, object? state)
    {
        Loop = loop;
        Callback = callback;
        CallbackState = state;
    }

    /// <summary>True while the timer is scheduled (a periodic timer stays active until cancelled).</summary>
    public bool IsActive => State is TimerState.Queued or TimerState.Due;

    /// <summary>The absolute CLOCK_MONOTONIC deadline in nanoseconds of the next (or last) firing.</summary>
    public long DeadlineNanoseconds => Deferred ? DeferredDeadline : Deadline;

    /// <summary>
    /// Cancels the timer (a no-op returning false once the loop is disposed). Returns true if it was still going to fire (also when it is due in the batch being
    /// dispatched right now: a timer cancelled by an earlier callback of the same batch does not fire);
    /// false if it already fired (one-shot) or was cancelled before. Idempotent.
    /// </summary>
    public bool Cancel() => Loop.CancelTimer(this);

    /// <summary>
    /// Re-arms this handle as a one-shot timer firing <paramref name="delay"/> from the loop's current time,
    /// with the same callback. Cancels the pending firing first if there is one. Allocation-free, and O(1) when the new
    /// deadline is not earlier than the pending one (the usual idle-timeout pattern: pushed back on every message).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public void Restart(TimeSpan delay) => Loop.RestartTimer(this, delay);

    /// <summary>Same as <see cref="Cancel"/>, for <c>using</c>: a timer scoped to a block is cancelled when the block ends.</summary>
    public void Dispose() => Cancel();
}
